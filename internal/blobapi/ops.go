package blobapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/engine"
)

// The data actions (and actions) Azure checks for blob operations
// ("Permissions for calling data operations").
const (
	actContainerRead   = "Microsoft.Storage/storageAccounts/blobServices/containers/read"
	actContainerWrite  = "Microsoft.Storage/storageAccounts/blobServices/containers/write"
	actContainerDelete = "Microsoft.Storage/storageAccounts/blobServices/containers/delete"
	actBlobRead        = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
	actBlobWrite       = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
	actBlobDelete      = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"
)

// The resource levels of an account SAS's srt.
const (
	levelService   = 's'
	levelContainer = 'c'
	levelObject    = 'o'
)

// op is one blob service operation.
type op struct {
	name   string
	action string
	data   bool   // action is a data action
	level  byte   // what an account SAS's srt must include
	sas    string // any of these SAS permissions allows it
	// sasContainerOK: a service SAS may call it (for a container
	// operation, one for the container: sr=c).
	sasContainerOK bool
	h              func(s *Service, ctx context.Context, q *request) (*engine.Response, error)
}

// resolve finds the operation a request names by its method, its path
// (account, container or blob) and its restype and comp parameters.
func resolve(q *request) (op, error) {
	m := q.r.Method
	comp, restype := q.q.Get("comp"), q.q.Get("restype")
	read := m == http.MethodGet || m == http.MethodHead
	switch {
	case read && restype == "account" && comp == "properties":
		// Get Account Information, which Storage answers at the account,
		// a container's or a blob's URL alike.
		return op{"GetAccountInformation", actContainerRead, false, levelService, "racwdl", true, accountInfo}, nil
	case q.container == "":
		switch {
		case m == http.MethodGet && comp == "list":
			return op{"ListContainers", actContainerRead, false, levelService, "l", false, listContainers}, nil
		}
	case q.blob == "":
		if restype != "container" {
			if restype == "" && comp == "" {
				return op{}, storageErr(http.StatusBadRequest, CodeInvalidURI, "The requested URI does not represent any resource on the server.")
			}
			return op{}, badQuery("restype", "Value for one of the query parameters specified in the request URI is invalid.")
		}
		switch {
		case m == http.MethodPut && comp == "":
			return op{"CreateContainer", actContainerWrite, false, levelContainer, "cw", false, createContainer}, nil
		case m == http.MethodDelete && comp == "":
			return op{"DeleteContainer", actContainerDelete, false, levelContainer, "d", false, deleteContainer}, nil
		case read && (comp == "" || comp == "metadata"):
			return op{"GetContainerProperties", actContainerRead, false, levelContainer, "r", false, containerProperties}, nil
		case m == http.MethodPut && comp == "metadata":
			return op{"SetContainerMetadata", actContainerWrite, false, levelContainer, "w", false, setContainerMetadata}, nil
		case m == http.MethodGet && comp == "list":
			return op{"ListBlobs", actBlobRead, true, levelContainer, "l", true, listBlobs}, nil
		}
	default:
		switch {
		case m == http.MethodPut && comp == "":
			return op{"PutBlob", actBlobWrite, true, levelObject, "cw", false, putBlob}, nil
		case m == http.MethodPut && comp == "block":
			return op{"PutBlock", actBlobWrite, true, levelObject, "cw", false, putBlock}, nil
		case m == http.MethodPut && comp == "blocklist":
			return op{"PutBlockList", actBlobWrite, true, levelObject, "cw", false, putBlockList}, nil
		case m == http.MethodGet && comp == "blocklist":
			return op{"GetBlockList", actBlobRead, true, levelObject, "r", false, getBlockList}, nil
		case read && comp == "":
			return op{"GetBlob", actBlobRead, true, levelObject, "r", false, getBlob}, nil
		case read && comp == "metadata":
			return op{"GetBlobMetadata", actBlobRead, true, levelObject, "r", false, getBlobMetadata}, nil
		case m == http.MethodPut && comp == "metadata":
			return op{"SetBlobMetadata", actBlobWrite, true, levelObject, "w", false, setBlobMetadata}, nil
		case m == http.MethodPut && comp == "properties":
			return op{"SetBlobProperties", actBlobWrite, true, levelObject, "w", false, setBlobProperties}, nil
		case m == http.MethodDelete && comp == "":
			return op{"DeleteBlob", actBlobDelete, true, levelObject, "d", false, deleteBlob}, nil
		}
	}
	if comp != "" && !strings.ContainsAny(comp, "<>&\"'") && len(comp) <= 32 {
		return op{}, storageErr(http.StatusNotImplemented, CodeNotImplemented,
			"armlet does not serve the blob operation %s with comp=%s.", m, comp)
	}
	return op{}, storageErr(http.StatusBadRequest, CodeUnsupportedHTTPVerb, "The resource doesn't support specified Http Verb.")
}
