package machinelearning

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Online and batch endpoints and their deployments (docs/azure-ml-arm.md 2.6): the
// v2 inference resources. They are tracked resources (location, tags,
// identity, kind, sku) below a workspace, created and deleted through
// long-running operations the way Azure ML's management front end answers
// them: PUT 201/200 with Azure-AsyncOperation (the SDK reads the final
// state from the original URI), PATCH 200 with the resource, DELETE 202
// with Location.

// Resource types of this area.
const (
	TypeOnlineEndpoints   = TypeWorkspaces + "/onlineEndpoints"
	TypeOnlineDeployments = TypeOnlineEndpoints + "/deployments"
	TypeBatchEndpoints    = TypeWorkspaces + "/batchEndpoints"
	TypeBatchDeployments  = TypeBatchEndpoints + "/deployments"
)

// Types the endpoint resources refer to (built by other areas).
const (
	endpointModelVersionType       = TypeWorkspaces + "/models/versions"
	endpointEnvironmentVersionType = TypeWorkspaces + "/environments/versions"
	endpointCodeVersionType        = TypeWorkspaces + "/codes/versions"
	endpointComputeType            = TypeWorkspaces + "/computes"
)

// endpointNamePattern is the name rule of online and batch endpoints and
// their deployments.
//
// Choice: Azure documents for managed online endpoints "3 to 32
// characters, begins with a letter, letters, digits and '-' only" (the
// name becomes a DNS label of the scoring URI); armlet applies the same
// rule to batch endpoints and to both kinds of deployment.
var endpointNamePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{2,31}$`)

const endpointNameRule = "The name must be 3 to 32 characters long, start with a letter, and contain only letters, digits and '-'."

// Keys of the endpoint strategies' state in Resource.Internal.Data.
const dataEndpointKeys = "endpointKeys" // endpointKeys

// endpointKeys are an endpoint's authentication keys, made at creation
// (or taken from properties.keys) and kept until regenerated.
type endpointKeys struct {
	Primary   string `json:"primaryKey"`
	Secondary string `json:"secondaryKey"`
}

func (k endpointKeys) body() map[string]any {
	return map[string]any{"primaryKey": k.Primary, "secondaryKey": k.Secondary}
}

// newEndpointKey is a random key of 32 characters from [A-Za-z0-9], the
// shape of Azure ML endpoint keys.
func newEndpointKey() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	s := strings.NewReplacer("+", "", "/", "", "=", "").Replace(base64.StdEncoding.EncodeToString(b))
	return s[:32]
}

var endpointKeysSchema = object("EndpointAuthKeys", map[string]*field{
	"primaryKey":   str(),
	"secondaryKey": str(),
})

var endpointAuthMode = enum("EndpointAuthMode", "AMLToken", "Key", "AADToken")

// registerEndpoints adds online and batch endpoints and deployments.
func registerEndpoints(e *engine.Engine, _ Options) {
	for _, t := range []struct {
		name     string
		strategy engine.Strategy
	}{
		{TypeOnlineEndpoints, &onlineEndpointStrategy{e: e, shapes: newShapes(TypeOnlineEndpoints, onlineEndpointProperties)}},
		{TypeOnlineDeployments, &onlineDeploymentStrategy{e: e, shapes: newOnlineDeploymentShapes()}},
		{TypeBatchEndpoints, &batchEndpointStrategy{e: e, shapes: newShapes(TypeBatchEndpoints, batchEndpointProperties)}},
		{TypeBatchDeployments, &batchDeploymentStrategy{e: e, shapes: newShapes(TypeBatchDeployments, batchDeploymentProperties)}},
	} {
		e.Registry().Register(&engine.Type{
			Name:        t.name,
			APIVersions: apiVersionsOf(t.name, V2APIVersions),
			Tracked:     true,
			NamePattern: endpointNamePattern,
			NameRule:    endpointNameRule,
			Put:         engine.AsyncOperation,
			Delete:      engine.Location,
			Strategy:    t.strategy,
		})
	}
}

// endpointPatchBody checks the top-level members of a PATCH body against
// the update type (typeName) and returns the body. Read-only envelope
// members pass, so a client may PATCH what it read.
func endpointPatchBody(req *engine.Request, typeName string, allowed ...string) (map[string]any, error) {
	v, err := decode(req.Body)
	if err != nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: %v.", err)
	}
	m, _ := v.(map[string]any)
	for k := range m {
		if slices.Contains(allowed, k) || k == "id" || k == "name" || k == "type" || k == "systemData" {
			continue
		}
		return nil, arm.InvalidContent(k, "Could not find member '%s' on object of type '%s'. Path '%s'.", k, typeName, k)
	}
	return m, nil
}

// epCheckSameLocation refuses a resource whose location differs from its
// parent's (the workspace for endpoints, the endpoint for deployments).
//
// Choice: Azure creates endpoints in their workspace's region and
// deployments in their endpoint's; armlet refuses any other location with
// 400 UserError naming location.
func epCheckSameLocation(r, parent *engine.Resource, what string) error {
	if engine.NormalizeLocation(r.Location) == engine.NormalizeLocation(parent.Location) {
		return nil
	}
	return arm.BadRequest(arm.CodeUserError, "The location '%s' of %s '%s' must be the location of its %s '%s', '%s'.",
		r.Location, what, r.ID.Name(), epParentKind(parent), parent.ID.Name(), parent.Location).WithTarget("location")
}

func epParentKind(r *engine.Resource) string {
	switch {
	case strings.EqualFold(r.Type, TypeWorkspaces):
		return "workspace"
	case strings.EqualFold(r.Type, TypeOnlineEndpoints):
		return "online endpoint"
	}
	return "batch endpoint"
}

// completeEndpointKeys stores the endpoint's keys: on create new ones (or
// those of properties.keys), on update the stored ones with any sent in
// properties.keys. properties.keys is never stored or shown.
func completeEndpointKeys(r *engine.Resource) {
	var k endpointKeys
	r.GetData(dataEndpointKeys, &k)
	if sent, _ := r.Properties["keys"].(map[string]any); sent != nil {
		if p, _ := sent["primaryKey"].(string); p != "" {
			k.Primary = p
		}
		if s, _ := sent["secondaryKey"].(string); s != "" {
			k.Secondary = s
		}
	}
	delete(r.Properties, "keys")
	if k.Primary == "" {
		k.Primary = newEndpointKey()
	}
	if k.Secondary == "" {
		k.Secondary = newEndpointKey()
	}
	r.SetData(dataEndpointKeys, k)
}

// listEndpointKeys answers listKeys (online) and listkeys (batch).
func listEndpointKeys(r *engine.Resource) *engine.Response {
	var k endpointKeys
	r.GetData(dataEndpointKeys, &k)
	return engine.JSON(http.StatusOK, k.body())
}

// completeEndpointIdentity adds the generated ids of a managed identity,
// with the tenant of the workspace.
func completeEndpointIdentity(ctx context.Context, e *engine.Engine, r *engine.Resource) {
	if _, ok := r.Extra["identity"]; !ok {
		return
	}
	tenant := ""
	if ws, err := workspaceOf(ctx, e, r); err == nil {
		tenant, _ = ws.Properties["tenantId"].(string)
	}
	completeIdentity(r, tenant)
}

// epAssetRef describes one kind of asset an endpoint member may name.
type epAssetRef struct {
	member string // the member's path, for messages and targets
	kind   string // "model", "environment", "code", "compute"
	typ    string // the workspace resource type of the ARM ID form
	// registry is the asset folder of the azureml://registries/ form, ""
	// when the member has no registry form.
	registry string
}

var (
	epRefModel       = epAssetRef{kind: "model", typ: endpointModelVersionType, registry: "models"}
	epRefEnvironment = epAssetRef{kind: "environment", typ: endpointEnvironmentVersionType, registry: "environments"}
	epRefCode        = epAssetRef{kind: "code", typ: endpointCodeVersionType, registry: "codes"}
	epRefCompute     = epAssetRef{kind: "compute", typ: endpointComputeType}
)

func (a epAssetRef) at(member string) epAssetRef {
	a.member = member
	return a
}

// epCheckRef checks a reference to another resource.
//
// The accepted forms are the ARM ID of a workspace asset version (or of a
// compute), which must exist, and, for assets, an
// azureml://registries/{registry}/{assets}/{name}/... URI, accepted
// unchecked (armlet does not serve registries).
//
// Choice: a reference that cannot be parsed, or names another type, gets
// 400 InvalidRequestContent; a well-formed ARM ID of a resource that does
// not exist gets 400 UserError, both with the member as target. Any
// workspace of the subscription may be named, not only the endpoint's.
func epCheckRef(ctx context.Context, e *engine.Engine, ref epAssetRef, value string) error {
	if ref.registry != "" && strings.HasPrefix(strings.ToLower(value), "azureml://registries/") {
		parts := strings.Split(value[len("azureml://registries/"):], "/")
		if len(parts) >= 3 && parts[0] != "" && strings.EqualFold(parts[1], ref.registry) && parts[2] != "" {
			return nil
		}
		return arm.InvalidContent(ref.member, "The value '%s' of '%s' is not a valid registry reference; expected 'azureml://registries/{registry}/%s/{name}/versions/{version}'.",
			value, ref.member, ref.registry)
	}
	id, err := resourceid.Parse(value)
	if err != nil || id.SubscriptionID() == "" || !strings.EqualFold(id.ResourceType(), ref.typ) {
		forms := "the resource ID of a " + ref.kind + " version ('" + ref.typ + "')"
		if ref.registry == "" {
			forms = "the resource ID of a compute ('" + ref.typ + "')"
		} else {
			forms += " or 'azureml://registries/{registry}/" + ref.registry + "/{name}/versions/{version}'"
		}
		return arm.InvalidContent(ref.member, "The value '%s' of '%s' is not a valid %s reference; expected %s.", value, ref.member, ref.kind, forms)
	}
	if _, err := e.Get(ctx, id); err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return arm.BadRequest(arm.CodeUserError, "The %s '%s' named by '%s' was not found.", ref.kind, value, ref.member).WithTarget(ref.member)
		}
		return err
	}
	return nil
}

// epCheckRefIfChanged runs epCheckRef when the member is set and differs
// from the stored value, so that updates of other members do not fail on
// an asset deleted since.
func epCheckRefIfChanged(ctx context.Context, e *engine.Engine, ref epAssetRef, value, old any) error {
	s, ok := value.(string)
	if !ok || s == "" {
		return nil
	}
	if os, _ := old.(string); strings.EqualFold(os, s) {
		return nil
	}
	return epCheckRef(ctx, e, ref, s)
}

// epNested returns the object at a path of members of m (nil when absent).
func epNested(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return m
}

// epSetDefaults adds the members of defs that obj lacks.
func epSetDefaults(obj map[string]any, defs map[string]any) {
	for k, v := range defs {
		if _, ok := obj[k]; !ok {
			obj[k] = engine.DeepCopy(v)
		}
	}
}

// epActionBody decodes the JSON object of a POST action body; an
// empty body is an empty object.
func epActionBody(req *engine.Request) (map[string]any, error) {
	if len(strings.TrimSpace(string(req.Body))) == 0 {
		return map[string]any{}, nil
	}
	v, err := decode(req.Body)
	if err != nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: %v.", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: a JSON object is expected.")
	}
	return m, nil
}

// epLiveChildren lists the deployments of an endpoint that are not being
// deleted, by lower-cased name.
func epLiveChildren(ctx context.Context, e *engine.Engine, endpoint resourceid.ID, req *engine.Request) (map[string]*engine.Resource, error) {
	list, err := e.List(ctx, endpoint, "deployments")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*engine.Resource, len(list))
	for _, d := range list {
		if !d.Deleting(req.Now) {
			out[strings.ToLower(d.ID.Name())] = d
		}
	}
	return out, nil
}
