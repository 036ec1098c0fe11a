package blobapi

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
)

// maxMetadataBytes is Storage's limit on the names and values of a blob's
// or container's metadata together.
const maxMetadataBytes = 8 << 10

// metadataOf reads the x-ms-meta-* headers. Names are kept lower case:
// Go's HTTP server has already changed their casing, and Storage compares
// them ignoring case. A name that is not a C# identifier is 400
// InvalidMetadata, as in Azure.
func metadataOf(h http.Header) (map[string]string, error) {
	out := map[string]string{}
	total := 0
	for k, vs := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-ms-meta-")
		if !ok {
			continue
		}
		if !identifier(name) {
			return nil, storageErr(http.StatusBadRequest, CodeInvalidMetadata, "The metadata specified is invalid. It has characters that are not permitted.").WithTarget(k)
		}
		v := strings.Join(vs, ",")
		out[name] = v
		total += len(name) + len(v)
	}
	if total > maxMetadataBytes {
		return nil, storageErr(http.StatusBadRequest, CodeInvalidMetadata, "The metadata specified exceeds the maximum permitted size of 8 KiB.")
	}
	return out, nil
}

func identifier(s string) bool {
	if s == "" || len(s) > 256 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// setMetadataHeaders writes metadata as x-ms-meta-* headers.
func setMetadataHeaders(h http.Header, md map[string]string) {
	for k, v := range md {
		h["x-ms-meta-"+k] = []string{v}
	}
}

// metadataXML is metadata as List Blobs and List Containers write it: one
// element per name.
type metadataXML map[string]string

func (m metadataXML) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if err := e.EncodeElement(m[k], xml.StartElement{Name: xml.Name{Local: k}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// stringMap converts a stored properties.metadata (JSON) to strings.
func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
		}
	}
	return out
}
