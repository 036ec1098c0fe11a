// Package arm holds the vocabulary shared by every part of armlet: the ARM
// error type with its wire codes, and the small value types that travel
// between the HTTP layer, the engine and the resource providers.
//
// It imports nothing from the rest of the project.
package arm

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an ARM error: an HTTP status plus the body Azure Resource Manager
// sends, {"error":{"code","message","target","details","additionalInfo"}}.
//
// Every failure a client can see is an *Error; anything else reaching the
// HTTP layer is reported as InternalServerError with a generic message.
type Error struct {
	Status         int              `json:"-"`
	Code           string           `json:"code"`
	Message        string           `json:"message"`
	Target         string           `json:"target,omitempty"`
	Details        []*Error         `json:"details,omitempty"`
	AdditionalInfo []AdditionalInfo `json:"additionalInfo,omitempty"`
	// InnerError is the finer code some data planes give under a general
	// one: Key Vault's {"code":"Forbidden","innererror":{"code":
	// "ForbiddenByRbac"}}. ARM's own errors have none.
	InnerError *InnerError `json:"innererror,omitempty"`

	// Header holds extra response headers (WWW-Authenticate on 401,
	// Retry-After on 429). Not part of the body.
	Header http.Header `json:"-"`

	// Err, when set, is the failure behind the error (a store conflict
	// behind a 409, for one), so that callers can recognise it with
	// errors.Is or errors.As whatever message the client is given. It is
	// never sent: the client sees Status and the body only.
	Err error `json:"-"`
}

// AdditionalInfo is one entry of an ARM error's additionalInfo array.
type AdditionalInfo struct {
	Type string `json:"type"`
	Info any    `json:"info"`
}

// InnerError is an error body's innererror member.
type InnerError struct {
	Code string `json:"code"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// WithInner returns e with InnerError's code set, for chaining at
// construction.
func (e *Error) WithInner(code string) *Error {
	e.InnerError = &InnerError{Code: code}
	return e
}

// FinestCode is the innererror's code when there is one, else Code: what
// names the failure most precisely, for flow records.
func (e *Error) FinestCode() string {
	if e.InnerError != nil && e.InnerError.Code != "" {
		return e.InnerError.Code
	}
	return e.Code
}

// Errorf builds an *Error with the given status and code.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithTarget returns e with Target set, for chaining at construction.
func (e *Error) WithTarget(target string) *Error {
	e.Target = target
	return e
}

// Wrap returns e with Err set to cause, for chaining at construction.
func (e *Error) Wrap(cause error) *Error {
	e.Err = cause
	return e
}

// Unwrap returns the cause (Err), so errors.Is and errors.As see through e.
func (e *Error) Unwrap() error { return e.Err }

// AsError reports whether err is (or wraps) an *Error and returns it.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Codes used by more than one package. Provider-specific codes live with the
// provider; these are ARM's own.
const (
	CodeMissingAPIVersion       = "MissingApiVersionParameter"
	CodeInvalidAPIVersion       = "InvalidApiVersionParameter"
	CodeNoRegisteredProvider    = "NoRegisteredProviderFound"
	CodeInvalidResourceType     = "InvalidResourceType"
	CodeInvalidResourceName     = "InvalidResourceName"
	CodeInvalidRequestContent   = "InvalidRequestContent"
	CodeInvalidRequestURI       = "InvalidRequestUri"
	CodeInvalidRequestFormat    = "InvalidRequestFormat"
	CodeRequestTooLarge         = "RequestEntityTooLarge"
	CodeSubscriptionNotFound    = "SubscriptionNotFound"
	CodeResourceGroupNotFound   = "ResourceGroupNotFound"
	CodeResourceNotFound        = "ResourceNotFound"
	CodeParentResourceNotFound  = "ParentResourceNotFound"
	CodeResourceGroupBeingDel   = "ResourceGroupBeingDeleted"
	CodePreconditionFailed      = "PreconditionFailed"
	CodeConflict                = "Conflict"
	CodeMethodNotAllowed        = "MethodNotAllowed"
	CodeBadRequest              = "BadRequest"
	CodeLocationRequired        = "LocationRequired"
	CodeInvalidLocation         = "LocationNotAvailableForResourceType"
	CodeInvalidTag              = "InvalidTag"
	CodePropertyChangeNotAllow  = "PropertyChangeNotAllowed"
	CodeMissingSubscriptionReg  = "MissingSubscriptionRegistration"
	CodeAuthenticationFailed    = "AuthenticationFailed"
	CodeInvalidAuthToken        = "InvalidAuthenticationToken"
	CodeExpiredAuthToken        = "ExpiredAuthenticationToken"
	CodeInvalidAuthTokenAud     = "InvalidAuthenticationTokenAudience"
	CodeAuthorizationFailed     = "AuthorizationFailed"
	CodeInternalServerError     = "InternalServerError"
	CodeUnsupportedMediaType    = "UnsupportedMediaType"
	CodeOperationNotFound       = "OperationNotFound"
	CodeStorageUnavailable      = "ServiceUnavailable"
	CodeInvalidSubscriptionID   = "InvalidSubscriptionId"
	CodeLinkedInvalidPropertyID = "LinkedInvalidPropertyId"
)

// More codes used by more than one package.
const (
	// CodeInvalidResourceNamespace: a namespace no provider registered.
	CodeInvalidResourceNamespace = "InvalidResourceNamespace"

	// CodeUserError is the code Azure ML gives, on its ARM resources and on
	// a workspace's data plane, for a request the service refuses by its
	// own rules (the workspace's configuration, checks beyond the schema)
	// rather than by ARM's.
	CodeUserError = "UserError"
)

// BadRequest is a 400 with the given code.
func BadRequest(code, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, code, format, args...)
}

// NotFound is a 404 with the given code.
func NotFound(code, format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, code, format, args...)
}

// Conflict is a 409 with the given code.
func Conflict(code, format string, args ...any) *Error {
	return Errorf(http.StatusConflict, code, format, args...)
}

// InvalidContent is the 400 ARM gives for a body that is not what the
// resource type accepts; target names the offending property path.
func InvalidContent(target, format string, args ...any) *Error {
	return BadRequest(CodeInvalidRequestContent, format, args...).WithTarget(target)
}

// UnknownMember is the 400 ARM's (.NET) deserializer gives for a body
// member that the type typeName does not have: name is the member as sent
// and parent the JSON path of the object holding it ("" for the body
// itself). The target and the message's path are parent.name, or name
// alone at the top level.
func UnknownMember(parent, name, typeName string) *Error {
	p := name
	if parent != "" {
		p = parent + "." + name
	}
	return InvalidContent(p, "Could not find member '%s' on object of type '%s'. Path '%s'.", name, typeName, p)
}

// PreconditionFailed is the 412 for a failed If-Match / If-None-Match.
func PreconditionFailed(condition string) *Error {
	return Errorf(http.StatusPreconditionFailed, CodePreconditionFailed,
		"The specified precondition '%s' failed.", condition)
}

// Internal wraps an unexpected failure. The message stays generic: details
// belong in the log, not on the wire.
func Internal() *Error {
	return Errorf(http.StatusInternalServerError, CodeInternalServerError,
		"The server encountered an internal error. Please retry the request.")
}
