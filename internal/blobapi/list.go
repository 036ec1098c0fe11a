package blobapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/engine"
)

// defaultMaxResults and the limit of maxresults in List Containers and
// List Blobs.
const defaultMaxResults = 5000

// listParams are the paging parameters of a list.
type listParams struct {
	prefix, marker, delimiter string
	max                       int
	metadata                  bool
}

func parseListParams(q *request) (listParams, error) {
	p := listParams{prefix: q.q.Get("prefix"), marker: q.q.Get("marker"), delimiter: q.q.Get("delimiter"), max: defaultMaxResults}
	if v := q.q.Get("maxresults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, storageErr(http.StatusBadRequest, CodeOutOfRangeQuery,
				"One of the query parameters specified in the request URI is outside the permissible range.").WithTarget("maxresults")
		}
		p.max = min(n, defaultMaxResults)
	}
	for inc := range strings.SplitSeq(q.q.Get("include"), ",") {
		switch strings.TrimSpace(inc) {
		case "metadata":
			p.metadata = true
		case "", "snapshots", "uncommittedblobs", "copy", "deleted", "tags", "versions", "immutabilitypolicy", "legalhold", "deletedwithversions", "system", "permissions":
			// Nothing of these exists in armlet: asking for them lists
			// what there is.
		default:
			return p, badQuery("include", "Value for one of the query parameters specified in the request URI is invalid.")
		}
	}
	if p.marker != "" {
		if _, err := decodeMarker(p.marker); err != nil {
			return p, badQuery("marker", "Value for one of the query parameters specified in the request URI is invalid.")
		}
	}
	return p, nil
}

// A marker is the base64url of the last name a page listed, opaque to
// clients as Azure's are.
func encodeMarker(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

func decodeMarker(m string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(m)
	return string(b), err
}

type containerXML struct {
	Name       string      `xml:"Name"`
	Properties containerPr `xml:"Properties"`
	Metadata   metadataXML `xml:"Metadata,omitempty"`
}

type containerPr struct {
	LastModified          string `xml:"Last-Modified"`
	Etag                  string `xml:"Etag"`
	LeaseStatus           string `xml:"LeaseStatus"`
	LeaseState            string `xml:"LeaseState"`
	HasImmutabilityPolicy bool   `xml:"HasImmutabilityPolicy"`
	HasLegalHold          bool   `xml:"HasLegalHold"`
}

type containersXML struct {
	XMLName         xml.Name       `xml:"EnumerationResults"`
	ServiceEndpoint string         `xml:"ServiceEndpoint,attr"`
	Prefix          string         `xml:"Prefix,omitempty"`
	Marker          string         `xml:"Marker,omitempty"`
	MaxResults      int            `xml:"MaxResults,omitempty"`
	Containers      []containerXML `xml:"Containers>Container"`
	NextMarker      string         `xml:"NextMarker"`
}

func serviceEndpoint(q *request) string { return "https://" + q.r.Host + "/" }

// listContainers lists the account's containers (its ARM containers).
func listContainers(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	p, err := parseListParams(q)
	if err != nil {
		return nil, err
	}
	all, err := s.e.List(ctx, q.account.ID.Child("blobServices", "default"), "containers")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b *engine.Resource) int { return strings.Compare(a.ID.Name(), b.ID.Name()) })
	after, _ := decodeMarker(p.marker)
	out := containersXML{ServiceEndpoint: serviceEndpoint(q), Prefix: p.prefix, Marker: p.marker, Containers: []containerXML{}}
	if q.q.Get("maxresults") != "" {
		out.MaxResults = p.max
	}
	for _, c := range all {
		name := c.ID.Name()
		if !strings.HasPrefix(name, p.prefix) || (after != "" && name <= after) {
			continue
		}
		if len(out.Containers) == p.max {
			out.NextMarker = encodeMarker(out.Containers[len(out.Containers)-1].Name)
			break
		}
		x := containerXML{Name: name, Properties: containerPr{
			LastModified: c.SystemData.LastModifiedAt.UTC().Format(http.TimeFormat), Etag: c.ETag(),
			LeaseStatus: "unlocked", LeaseState: "available",
		}}
		if p.metadata {
			x.Metadata = stringMap(c.Properties["metadata"])
		}
		out.Containers = append(out.Containers, x)
	}
	return xmlResponse(http.StatusOK, nil, out)
}

type blobXML struct {
	Name       string      `xml:"Name"`
	Properties blobProps   `xml:"Properties"`
	Metadata   metadataXML `xml:"Metadata,omitempty"`
}

type blobProps struct {
	CreationTime       string `xml:"Creation-Time"`
	LastModified       string `xml:"Last-Modified"`
	Etag               string `xml:"Etag"`
	ContentLength      int64  `xml:"Content-Length"`
	ContentType        string `xml:"Content-Type"`
	ContentEncoding    string `xml:"Content-Encoding"`
	ContentLanguage    string `xml:"Content-Language"`
	ContentMD5         string `xml:"Content-MD5"`
	ContentDisposition string `xml:"Content-Disposition"`
	CacheControl       string `xml:"Cache-Control"`
	BlobType           string `xml:"BlobType"`
	AccessTier         string `xml:"AccessTier"`
	AccessTierInferred bool   `xml:"AccessTierInferred"`
	LeaseStatus        string `xml:"LeaseStatus"`
	LeaseState         string `xml:"LeaseState"`
	ServerEncrypted    bool   `xml:"ServerEncrypted"`
}

type blobPrefixXML struct {
	Name string `xml:"Name"`
}

type blobsXML struct {
	XMLName         xml.Name `xml:"EnumerationResults"`
	ServiceEndpoint string   `xml:"ServiceEndpoint,attr"`
	ContainerName   string   `xml:"ContainerName,attr"`
	Prefix          string   `xml:"Prefix,omitempty"`
	Marker          string   `xml:"Marker,omitempty"`
	MaxResults      int      `xml:"MaxResults,omitempty"`
	Delimiter       string   `xml:"Delimiter,omitempty"`
	// Items are Blob and BlobPrefix elements, in name order.
	Items      []any  `xml:"Blobs>Item"`
	NextMarker string `xml:"NextMarker"`
}

type blobItem struct {
	XMLName xml.Name `xml:"Blob"`
	blobXML
}

type prefixItem struct {
	XMLName xml.Name `xml:"BlobPrefix"`
	blobPrefixXML
}

// listBlobs lists a container's committed blobs in name order, a page at
// a time, folding names that go on past the delimiter into BlobPrefix
// entries. It scans the store from the marker on: a page costs what it
// lists, not what the container holds.
func listBlobs(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	p, err := parseListParams(q)
	if err != nil {
		return nil, err
	}
	if _, err := s.container(ctx, q); err != nil {
		return nil, err
	}
	out := blobsXML{ServiceEndpoint: serviceEndpoint(q), ContainerName: q.container, Prefix: p.prefix, Marker: p.marker, Delimiter: p.delimiter, Items: []any{}}
	if q.q.Get("maxresults") != "" {
		out.MaxResults = p.max
	}
	base := blobPrefix(q.containerID())
	scanPrefix := append(append([]byte(nil), base...), p.prefix...)
	var after []byte
	if m, _ := decodeMarker(p.marker); m != "" {
		after = append(append([]byte(nil), base...), m...)
	}
	last := ""
	for len(out.Items) < p.max {
		ents, err := s.meta.v.Scan(ctx, scanPrefix, after, p.max-len(out.Items))
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			return xmlResponse(http.StatusOK, nil, out)
		}
		for _, e := range ents {
			name := string(e.Key[len(base):])
			if p.delimiter != "" {
				if i := strings.Index(name[len(p.prefix):], p.delimiter); i >= 0 {
					// Every name below this prefix folds into it: the scan
					// resumes past them (no UTF-8 byte is 0xff).
					bp := name[:len(p.prefix)+i+len(p.delimiter)]
					out.Items = append(out.Items, prefixItem{blobPrefixXML: blobPrefixXML{Name: bp}})
					last = bp + "\xff"
					after = append(append([]byte(nil), base...), last...)
					break
				}
			}
			var b blobRecord
			if err := json.Unmarshal(e.Value, &b); err != nil {
				return nil, err
			}
			out.Items = append(out.Items, blobItem{blobXML: b.listXML(p.metadata)})
			last = name
			after = e.Key
			if len(out.Items) == p.max {
				break
			}
		}
	}
	// A full page: more follow when the store has a key past the last.
	more, err := s.meta.v.Scan(ctx, scanPrefix, after, 1)
	if err != nil {
		return nil, err
	}
	if len(more) > 0 {
		out.NextMarker = encodeMarker(last)
	}
	return xmlResponse(http.StatusOK, nil, out)
}

func (b *blobRecord) listXML(withMetadata bool) blobXML {
	x := blobXML{Name: b.Name, Properties: blobProps{
		CreationTime: b.Created.UTC().Format(http.TimeFormat), LastModified: b.Modified.UTC().Format(http.TimeFormat),
		Etag: b.ETag, ContentLength: b.Size, ContentType: b.contentType(), ContentEncoding: b.ContentEncoding,
		ContentLanguage: b.ContentLanguage, ContentMD5: b.ContentMD5, ContentDisposition: b.ContentDisposition,
		CacheControl: b.CacheControl, BlobType: "BlockBlob", AccessTier: "Hot", AccessTierInferred: true,
		LeaseStatus: "unlocked", LeaseState: "available", ServerEncrypted: true,
	}}
	if withMetadata {
		x.Metadata = b.Metadata
		if x.Metadata == nil {
			x.Metadata = metadataXML{}
		}
	}
	return x
}

func (b *blobRecord) contentType() string {
	if b.ContentType == "" {
		return "application/octet-stream"
	}
	return b.ContentType
}
