package blobapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

// Errors are *arm.Error, the one error vocabulary of armlet: the front
// door, the identity service and RBAC make them too, and the blob service
// must answer theirs (a bad token, a refused role) in Storage's form as
// well as its own. What differs is only the wire form, which the front
// door chooses by the service a request was routed to: for the blob data
// plane, ErrorXML's body with the x-ms-error-code header, never ARM's
// JSON. Target, when set, names the header or query parameter at fault
// (Storage's <HeaderName> or <QueryParameterName>).

// Storage's error codes (Azure's "Blob service error codes" and "Common
// REST API error codes").
const (
	CodeAccountNotFound          = "ResourceNotFound"
	CodeContainerNotFound        = "ContainerNotFound"
	CodeContainerAlreadyExists   = "ContainerAlreadyExists"
	CodeBlobNotFound             = "BlobNotFound"
	CodeBlobAlreadyExists        = "BlobAlreadyExists"
	CodeInvalidBlockList         = "InvalidBlockList"
	CodeInvalidRange             = "InvalidRange"
	CodeInvalidQueryParameter    = "InvalidQueryParameterValue"
	CodeInvalidHeaderValue       = "InvalidHeaderValue"
	CodeMissingHeader            = "MissingRequiredHeader"
	CodeOutOfRangeInput          = "OutOfRangeInput"
	CodeRequestBodyTooLarge      = "RequestBodyTooLarge"
	CodeInvalidXML               = "InvalidXmlDocument"
	CodeInvalidURI               = "InvalidUri"
	CodeInvalidResourceName      = "InvalidResourceName"
	CodeInvalidMetadata          = "InvalidMetadata"
	CodeMD5Mismatch              = "Md5Mismatch"
	CodeConditionNotMet          = "ConditionNotMet"
	CodeUnsupportedHTTPVerb      = "UnsupportedHttpVerb"
	CodeNotImplemented           = "NotImplemented"
	CodeAuthenticationFailed     = "AuthenticationFailed"
	CodeNoAuthenticationInfo     = "NoAuthenticationInformation"
	CodeInvalidAuthenticationInf = "InvalidAuthenticationInfo"
	CodeAuthorizationFailure     = "AuthorizationFailure"
	CodePermissionMismatch       = "AuthorizationPermissionMismatch"
	CodeResourceTypeMismatch     = "AuthorizationResourceTypeMismatch"
	CodeServiceMismatch          = "AuthorizationServiceMismatch"
	CodeKeyBasedNotPermitted     = "KeyBasedAuthenticationNotPermitted"
	CodeFeatureNotSupported      = "FeatureNotSupported"
	CodeMissingContentLength     = "MissingContentLengthHeader"
	CodeMissingQueryParameter    = "MissingRequiredQueryParameter"
	CodeOutOfRangeQuery          = "OutOfRangeQueryParameterValue"
	CodeServerBusy               = "ServerBusy"
	CodePublicAccessNotPermitted = "PublicAccessNotPermitted"
	// CodeConcurrentWrite is armlet's: two writes of one blob (or block)
	// at the same instant, one of which loses (Azure lets the last win).
	CodeConcurrentWrite = "ConcurrentWrite"
)

func storageErr(status int, code, format string, args ...any) *arm.Error {
	return arm.Errorf(status, code, format, args...)
}

func badHeader(name, format string, args ...any) *arm.Error {
	return storageErr(http.StatusBadRequest, CodeInvalidHeaderValue, format, args...).WithTarget(name)
}

func badQuery(name, format string, args ...any) *arm.Error {
	return storageErr(http.StatusBadRequest, CodeInvalidQueryParameter, format, args...).WithTarget(name)
}

func missingHeader(name string) *arm.Error {
	return storageErr(http.StatusBadRequest, CodeMissingHeader,
		"An HTTP header that's mandatory for this request is not specified.").WithTarget(name)
}

func containerNotFound() *arm.Error {
	return storageErr(http.StatusNotFound, CodeContainerNotFound, "The specified container does not exist.")
}

func blobNotFound() *arm.Error {
	return storageErr(http.StatusNotFound, CodeBlobNotFound, "The specified blob does not exist.")
}

func conditionNotMet() *arm.Error {
	return storageErr(http.StatusPreconditionFailed, CodeConditionNotMet, "The condition specified using HTTP conditional header(s) is not met.")
}

// networkRefused is Storage's 403 for a request its network rules keep
// out (publicNetworkAccess Disabled, or a firewall that denies).
func networkRefused() *arm.Error {
	return storageErr(http.StatusForbidden, CodeAuthorizationFailure, "This request is not authorized to perform this operation.")
}

func permissionMismatch() *arm.Error {
	return storageErr(http.StatusForbidden, CodePermissionMismatch, "This request is not authorized to perform this operation using this permission.")
}

// authFailed is Storage's 403 for a Shared Key or SAS signature it does
// not accept; detail says why (Azure adds it as AuthenticationErrorDetail).
func authFailed(detail string) *arm.Error {
	return storageErr(http.StatusForbidden, CodeAuthenticationFailed,
		"Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\n%s", detail)
}

// xmlText escapes text for an XML element, keeping line breaks as they
// are (encoding/xml writes them as &#xA;, Azure's bodies have them raw).
var xmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;", "\r", "&#xD;")

// ErrorXML is e as Storage writes it: an XML <Error> whose Message ends
// with the request id and the time, as Azure's do. A second line of e's
// message is the AuthenticationErrorDetail; Target, when set, names the
// header or query parameter at fault.
func ErrorXML(e *arm.Error, requestID string, now time.Time) []byte {
	msg, detail, _ := strings.Cut(e.Message, "\n")
	var b strings.Builder
	el := func(name, text string) {
		if text != "" {
			b.WriteString("<" + name + ">" + xmlText.Replace(text) + "</" + name + ">")
		}
	}
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><Error>`)
	el("Code", e.Code)
	el("Message", msg+"\nRequestId:"+requestID+"\nTime:"+now.UTC().Format("2006-01-02T15:04:05.0000000Z"))
	switch {
	case e.Target == "":
	case strings.Contains(e.Code, "Header"):
		el("HeaderName", e.Target)
	case strings.Contains(e.Code, "Query"):
		el("QueryParameterName", e.Target)
	}
	el("AuthenticationErrorDetail", detail)
	b.WriteString("</Error>")
	return []byte(b.String())
}
