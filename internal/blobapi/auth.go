package blobapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/providers/storage"
)

// authenticate authenticates a request and authorizes its operation, in
// Storage's order: Shared Key (an Authorization: SharedKey header), OAuth
// (Authorization: Bearer) or a SAS (sig in the query); none of them is an
// anonymous request, allowed where the container is public
// (anonymousAllowed), else 401 NoAuthenticationInformation with Storage's
// challenge.
func (s *Service) authenticate(ctx context.Context, q *request) (engine.Caller, error) {
	authz := q.r.Header.Get("Authorization")
	scheme, _, _ := strings.Cut(strings.TrimSpace(authz), " ")
	switch {
	case strings.EqualFold(scheme, "SharedKey"):
		caller := engine.Caller{AppID: "sharedkey:" + q.account.ID.Name()}
		if err := s.keyBased(q); err != nil {
			return caller, err
		}
		return caller, checkSharedKey(q.account.ID.Name(), s.keys(q.account), authz, q.r)
	case strings.EqualFold(scheme, "Bearer"):
		caller, aerr := s.auth(ctx, authz)
		if aerr != nil {
			return engine.Caller{}, s.unauthorized(CodeInvalidAuthenticationInf, "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.")
		}
		return caller, s.checkRBAC(ctx, caller, q)
	case authz != "":
		return engine.Caller{}, s.unauthorized(CodeInvalidAuthenticationInf, "Authentication information is not given in the correct format. Check the value of Authorization header.")
	}
	sig, ok, err := parseSAS(q.q)
	if !ok {
		if s.anonymousAllowed(ctx, q) {
			return engine.Caller{}, nil
		}
		return engine.Caller{}, s.unauthorized(CodeNoAuthenticationInfo, "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.")
	}
	caller := engine.Caller{AppID: "sas:" + q.account.ID.Name()}
	if err != nil {
		return caller, err
	}
	if err := s.keyBased(q); err != nil {
		return caller, err
	}
	return caller, sig.authorize(q.account.ID.Name(), s.keys(q.account), q.container, q.blob, q.op, s.now())
}

// keyBased refuses Shared Key and SAS on an account whose
// allowSharedKeyAccess is false.
func (s *Service) keyBased(q *request) error {
	if v, ok := q.account.Properties["allowSharedKeyAccess"].(bool); ok && !v {
		return storageErr(http.StatusForbidden, CodeKeyBasedNotPermitted, "Key based authentication is not permitted on this storage account.")
	}
	return nil
}

// keys are the account's current keys (regenerateKey takes effect on the
// next request).
func (s *Service) keys(account *engine.Resource) []string {
	t, ok := s.e.Registry().Lookup(storage.TypeAccounts)
	if !ok {
		return nil
	}
	h, ok := t.Strategy.(engine.AccessKeyHolder)
	if !ok {
		return nil
	}
	return h.AccessKeys(account)
}

// unauthorized is Storage's 401 with the challenge that tells a client
// where to get a token for Storage.
func (s *Service) unauthorized(code, msg string) *arm.Error {
	e := storageErr(http.StatusUnauthorized, code, "%s", msg)
	e.Header = http.Header{"Www-Authenticate": {"Bearer authorization_uri=" + s.authority + "/oauth2/authorize resource_id=" + Audience}}
	return e
}

// checkRBAC checks the operation's data action (or action) at the
// container, or at the account for account operations.
func (s *Service) checkRBAC(ctx context.Context, caller engine.Caller, q *request) error {
	if s.authorize == nil {
		return nil
	}
	scope := q.account.ID
	if q.container != "" {
		scope = q.containerID()
	}
	// A blob operation's data action is granted by dataActions only, as
	// in Azure: an Owner of the subscription, whose "*" is an action,
	// reads no blob with its token. A container operation's action is an
	// action (Contributor's "*" creates a container).
	var err error
	if q.op.data {
		err = s.authorize.CheckDataAction(ctx, caller, q.op.action, scope)
	} else {
		err = s.authorize.Check(ctx, caller, q.op.action, scope, false)
	}
	if ae, ok := arm.AsError(err); ok && ae.Status == http.StatusForbidden {
		return permissionMismatch()
	}
	return err
}

// anonymousAllowed reports whether an anonymous request may read what it
// asks for: the account allows public blob access (allowBlobPublicAccess
// true; armlet's accounts default to false, as Azure's) and the
// container's publicAccess is Blob (its blobs can be read) or Container
// (its blobs read, and the container listed and read). Nothing is ever
// written anonymously.
func (s *Service) anonymousAllowed(ctx context.Context, q *request) bool {
	if allowed, _ := q.account.Properties["allowBlobPublicAccess"].(bool); !allowed || q.container == "" {
		return false
	}
	blobRead := q.op.level == levelObject && q.op.action == actBlobRead
	containerRead := q.op.name == "ListBlobs" || q.op.name == "GetContainerProperties"
	if !blobRead && !containerRead {
		return false
	}
	c, err := s.e.Get(ctx, q.containerID())
	if err != nil {
		return false
	}
	switch access, _ := c.Properties["publicAccess"].(string); {
	case strings.EqualFold(access, "Container"):
		return true
	case strings.EqualFold(access, "Blob"):
		return blobRead
	}
	return false
}
