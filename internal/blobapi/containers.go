package blobapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/providers/storage"
)

// container returns the container the request names, or 404
// ContainerNotFound.
func (s *Service) container(ctx context.Context, q *request) (*engine.Resource, error) {
	c, err := s.e.Get(ctx, q.containerID())
	if errors.Is(err, engine.ErrNotFound) {
		return nil, containerNotFound()
	}
	return c, err
}

// containerHeaders are the ETag and Last-Modified of a container: its ARM
// record's.
func containerHeaders(c *engine.Resource) http.Header {
	return http.Header{
		"Etag":          {c.ETag()},
		"Last-Modified": {c.SystemData.LastModifiedAt.UTC().Format(http.TimeFormat)},
	}
}

// createContainer makes the container as the ARM resource (so ARM lists
// it), with its metadata; 409 ContainerAlreadyExists when it exists.
func createContainer(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	md, err := metadataOf(q.r.Header)
	if err != nil {
		return nil, err
	}
	props := map[string]any{"metadata": toAny(md)}
	// The ARM strategy refuses public access on an account that does not
	// allow it (409 PublicAccessNotPermitted); anonymous reads are not
	// served either way.
	switch access := q.r.Header.Get("x-ms-blob-public-access"); access {
	case "":
	case "blob", "container":
		props["publicAccess"] = strings.ToUpper(access[:1]) + access[1:]
	default:
		return nil, badHeader("x-ms-blob-public-access", "The value for one of the HTTP headers is not in the correct format.")
	}
	body := map[string]any{"properties": props}
	created, err := s.e.ImportWith(ctx, q.containerID(), body, storage.APIVersions[0], q.caller, nil)
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, storageErr(http.StatusConflict, CodeContainerAlreadyExists, "The specified container already exists.")
	}
	c, err := s.container(ctx, q)
	if err != nil {
		return nil, err
	}
	return &engine.Response{Status: http.StatusCreated, Header: containerHeaders(c)}, nil
}

func toAny(md map[string]string) map[string]any {
	out := make(map[string]any, len(md))
	for k, v := range md {
		out[k] = v
	}
	return out
}

// deleteContainer deletes the ARM resource; the delete hook removes its
// blobs.
func deleteContainer(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	if _, err := s.container(ctx, q); err != nil {
		return nil, err
	}
	if err := s.e.Remove(ctx, q.containerID()); err != nil {
		return nil, err
	}
	return &engine.Response{Status: http.StatusAccepted}, nil
}

// containerProperties answers Get Container Properties and Get Container
// Metadata (the same headers).
func containerProperties(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	c, err := s.container(ctx, q)
	if err != nil {
		return nil, err
	}
	h := containerHeaders(c)
	setMetadataHeaders(h, stringMap(c.Properties["metadata"]))
	h.Set("x-ms-lease-status", "unlocked")
	h.Set("x-ms-lease-state", "available")
	h.Set("x-ms-has-immutability-policy", "false")
	h.Set("x-ms-has-legal-hold", "false")
	h.Set("x-ms-default-encryption-scope", "$account-encryption-key")
	h.Set("x-ms-deny-encryption-scope-override", "false")
	return &engine.Response{Status: http.StatusOK, Header: h}, nil
}

// setContainerMetadata replaces the container's metadata.
func setContainerMetadata(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	md, err := metadataOf(q.r.Header)
	if err != nil {
		return nil, err
	}
	if _, err := s.container(ctx, q); err != nil {
		return nil, err
	}
	c, err := s.e.Update(ctx, q.containerID(), func(r *engine.Resource) error {
		if r.Properties == nil {
			r.Properties = map[string]any{}
		}
		r.Properties["metadata"] = toAny(md)
		r.SystemData.LastModifiedAt = s.e.Now()
		return nil
	})
	if errors.Is(err, engine.ErrNotFound) {
		return nil, containerNotFound()
	}
	if err != nil {
		return nil, err
	}
	return &engine.Response{Status: http.StatusOK, Header: containerHeaders(c)}, nil
}

// accountInfo answers Get Account Information: the sku and kind.
func accountInfo(s *Service, _ context.Context, q *request) (*engine.Response, error) {
	h := http.Header{}
	var sku struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(q.account.Extra["sku"], &sku)
	h.Set("x-ms-sku-name", sku.Name)
	h.Set("x-ms-account-kind", q.account.Kind)
	h.Set("x-ms-is-hns-enabled", "false")
	return &engine.Response{Status: http.StatusOK, Header: h}, nil
}
