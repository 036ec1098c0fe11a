package workspaceapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// maxArtifactsPerBatch bounds the paths of one batch (one store write
// each, in one transaction).
const maxArtifactsPerBatch = 50

// artifact is an Artifact (Artifact 2019-09-30): metadata of one file of
// a container, such as the outputs of a run (origin "ExperimentRun",
// container "dcid.{runId}").
type artifact struct {
	ArtifactID  string     `json:"artifactId"`
	Origin      string     `json:"origin"`
	Container   string     `json:"container"`
	Path        string     `json:"path"`
	ETag        string     `json:"etag"`
	CreatedTime time.Time  `json:"createdTime"`
	DataPath    any        `json:"dataPath"`
	Size        int        `json:"size"`
	ContentType string     `json:"contentType,omitempty"`
	Modified    *time.Time `json:"modifiedTime,omitempty"`
}

// contentInfo is an ArtifactContentInformation.
//
// Choice: contentUri is armlet's own content endpoint on the listener the
// request arrived on (Azure gives a blob SAS URL), so reading it stays on
// the same network path.
type contentInfo struct {
	ContentURI string `json:"contentUri"`
	Origin     string `json:"origin"`
	Container  string `json:"container"`
	Path       string `json:"path"`
}

func artifactKey(c *call, kind, origin, container, path string) []byte {
	return key(c.wsKey, kind, strings.ToLower(origin), strings.ToLower(container), path)
}

// checkArtifactPath accepts any non-empty UTF-8 path of at most 1024 bytes
// without NUL.
func checkArtifactPath(target, p string) error {
	if p == "" || len(p) > 1024 || !utf8.ValidString(p) || strings.ContainsRune(p, 0) {
		return badRequest(target, "The artifact path '%s' is not valid: it must be 1 to 1024 bytes of UTF-8 without NUL.", p)
	}
	return nil
}

// container checks the {origin} and {container} of c.
func artifactContainer(c *call) (string, string, error) {
	origin, container := c.param("origin"), c.param("container")
	if err := checkName("artifact origin", "origin", origin, containerName); err != nil {
		return "", "", err
	}
	if err := checkName("artifact container", "container", container, containerName); err != nil {
		return "", "", err
	}
	return origin, container, nil
}

// pathQuery is the required ?path= of an artifact operation.
func pathQuery(c *call) (string, error) {
	p := c.queryValue("path")
	if err := checkArtifactPath("path", p); err != nil {
		return "", err
	}
	return p, nil
}

func (c *call) contentInfo(a *artifact) contentInfo {
	u := strings.TrimSuffix(c.BaseURL, "/") + "/artifact/v2.0" + c.scope + "/artifacts/" +
		url.PathEscape(a.Origin) + "/" + url.PathEscape(a.Container) + "/content?path=" + url.QueryEscape(a.Path)
	return contentInfo{ContentURI: u, Origin: a.Origin, Container: a.Container, Path: a.Path}
}

func newArtifact(origin, container, path string, now time.Time, data []byte, contentType string) *artifact {
	sum := sha256.Sum256(data)
	return &artifact{
		ArtifactID: origin + "/" + container + "/" + path, Origin: origin, Container: container, Path: path,
		ETag: `"` + hex.EncodeToString(sum[:8]) + `"`, CreatedTime: now, Size: len(data), ContentType: contentType,
	}
}

func (s *Service) loadArtifact(ctx context.Context, c *call, origin, container, path string) (*artifact, int64, error) {
	var a artifact
	found, rev, err := s.getJSON(ctx, artifactKey(c, "a", origin, container, path), &a)
	if err != nil || !found {
		return nil, 0, err
	}
	return &a, rev, nil
}

func artifactNotFound(origin, container, path string) error {
	return notFound("The artifact '%s/%s/%s' was not found in the workspace.", origin, container, path)
}

// batchCreateArtifacts is POST /artifacts/{origin}/{container}/batch/metadata
// with {"paths":[{"path"}]}: it creates the artifacts that do not exist
// yet (empty) and answers a BatchArtifactContentInformationResult for all.
func batchCreateArtifacts(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	origin, container, err := artifactContainer(c)
	if err != nil {
		return nil, err
	}
	body, err := decodeObject(c.Body, false)
	if err != nil {
		return nil, err
	}
	list, ok, err := body.list("paths")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("paths", "The request body needs 'paths', an array of {\"path\"} objects.")
	}
	if len(list) > maxArtifactsPerBatch {
		return nil, badRequest("paths", "A batch may hold at most %d paths, not %d.", maxArtifactsPerBatch, len(list))
	}
	var paths []string
	seen := map[string]bool{}
	for i, v := range list {
		target := "paths[" + strconv.Itoa(i) + "].path"
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, badRequest("paths["+strconv.Itoa(i)+"]", "Each entry of 'paths' must be a JSON object.")
		}
		p, _, err := object(m).str("path")
		if err != nil {
			return nil, err
		}
		if err := checkArtifactPath(target, p); err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	arts := map[string]*artifact{}
	var ops []kv.Op
	for _, p := range paths {
		a, _, err := s.loadArtifact(ctx, c, origin, container, p)
		if err != nil {
			return nil, err
		}
		if a == nil {
			a = newArtifact(origin, container, p, c.Now.UTC(), nil, "")
			b, err := json.Marshal(a)
			if err != nil {
				return nil, err
			}
			ops = append(ops, kv.Put(artifactKey(c, "a", origin, container, p), b).If(kv.Absent))
		}
		arts[p] = a
	}
	if len(ops) > 0 {
		if _, err := s.kv.Txn(ctx, ops...); err != nil {
			if errors.Is(err, kv.ErrConflict) {
				return nil, userError(http.StatusConflict, "paths", "An artifact of the batch was created by another request; retry.")
			}
			return nil, err
		}
	}
	return engine.JSON(http.StatusOK, c.batchResult(arts, map[string]any{})), nil
}

func (c *call) batchResult(arts map[string]*artifact, errs map[string]any) map[string]any {
	infos := map[string]contentInfo{}
	for k, a := range arts {
		infos[k] = c.contentInfo(a)
	}
	return map[string]any{"artifacts": arts, "artifactContentInformation": infos, "errors": errs}
}

// batchGetArtifacts is POST /artifacts/batch/metadata with
// {"artifactIds":["{origin}/{container}/{path}"]}: the artifacts found,
// keyed by id, and an error for each one missing.
func batchGetArtifacts(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	body, err := decodeObject(c.Body, false)
	if err != nil {
		return nil, err
	}
	ids, ok, err := body.list("artifactIds")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("artifactIds", "The request body needs 'artifactIds', an array of strings.")
	}
	if len(ids) > 1000 {
		return nil, badRequest("artifactIds", "A batch may hold at most 1000 ids, not %d.", len(ids))
	}
	arts, errs := map[string]*artifact{}, map[string]any{}
	for i, v := range ids {
		id, isStr := v.(string)
		if !isStr {
			return nil, badRequest("artifactIds["+strconv.Itoa(i)+"]", "Each artifact id must be a string.")
		}
		parts := strings.SplitN(id, "/", 3)
		var a *artifact
		if len(parts) == 3 && containerName.MatchString(parts[0]) && containerName.MatchString(parts[1]) && checkArtifactPath("", parts[2]) == nil {
			if a, _, err = s.loadArtifact(ctx, c, parts[0], parts[1], parts[2]); err != nil {
				return nil, err
			}
		}
		if a == nil {
			errs[id] = map[string]any{"code": "NotFound", "message": "The artifact '" + id + "' was not found."}
			continue
		}
		arts[id] = a
	}
	return engine.JSON(http.StatusOK, c.batchResult(arts, errs)), nil
}

// uploadArtifact is POST (or PUT) /artifacts/{origin}/{container}/content
// ?path=P: the body, as is, becomes the artifact's content, creating or
// replacing it.
func uploadArtifact(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	origin, container, err := artifactContainer(c)
	if err != nil {
		return nil, err
	}
	p, err := pathQuery(c)
	if err != nil {
		return nil, err
	}
	ct := c.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	var a *artifact
	err = kv.Retry(ctx, func() error {
		old, rev, err := s.loadArtifact(ctx, c, origin, container, p)
		if err != nil {
			return err
		}
		a = newArtifact(origin, container, p, c.Now.UTC(), c.Body, ct)
		if old != nil {
			now := c.Now.UTC()
			a.CreatedTime, a.Modified = old.CreatedTime, &now
		}
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		data := c.Body
		if data == nil {
			data = []byte{}
		}
		_, err = s.kv.Txn(ctx,
			kv.Put(artifactKey(c, "a", origin, container, p), b).If(kv.Cond(rev)),
			kv.Put(artifactKey(c, "c", origin, container, p), data))
		return err
	})
	if errors.Is(err, kv.ErrConflict) {
		return nil, userError(http.StatusConflict, "path", "Too many concurrent writes to the artifact '%s'; retry.", p).Wrap(err)
	}
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, a), nil
}

// existingArtifact reads the {origin}/{container} of the path and the
// ?path= of the query and loads that artifact: 404 when it does not exist.
func (s *Service) existingArtifact(ctx context.Context, c *call) (origin, container, p string, a *artifact, err error) {
	if origin, container, err = artifactContainer(c); err != nil {
		return "", "", "", nil, err
	}
	if p, err = pathQuery(c); err != nil {
		return "", "", "", nil, err
	}
	if a, _, err = s.loadArtifact(ctx, c, origin, container, p); err != nil {
		return "", "", "", nil, err
	}
	if a == nil {
		return "", "", "", nil, artifactNotFound(origin, container, p)
	}
	return origin, container, p, a, nil
}

// downloadArtifact is GET /artifacts/{origin}/{container}/content?path=P:
// the content as uploaded (empty for an artifact created empty), as an engine.RawBody
// body.
func downloadArtifact(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	origin, container, p, a, err := s.existingArtifact(ctx, c)
	if err != nil {
		return nil, err
	}
	data := []byte{}
	ent, err := s.kv.Get(ctx, artifactKey(c, "c", origin, container, p))
	if err == nil {
		data = ent.Value
	} else if !isNotFound(err) {
		return nil, err
	}
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return &engine.Response{Status: http.StatusOK, Header: http.Header{"ETag": {a.ETag}}, Body: engine.RawBody{ContentType: ct, Data: data}}, nil
}

func getArtifact(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	_, _, _, a, err := s.existingArtifact(ctx, c)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, a), nil
}

func artifactContentInfo(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	_, _, _, a, err := s.existingArtifact(ctx, c)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, c.contentInfo(a)), nil
}

// deleteArtifact is DELETE /artifacts/{origin}/{container}/metadata?path=P:
// metadata and content go.
func deleteArtifact(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	origin, container, p, _, err := s.existingArtifact(ctx, c)
	if err != nil {
		return nil, err
	}
	if _, err := s.kv.Txn(ctx, kv.Delete(artifactKey(c, "a", origin, container, p)), kv.Delete(artifactKey(c, "c", origin, container, p))); err != nil {
		return nil, err
	}
	return &engine.Response{Status: http.StatusOK}, nil
}

// listArtifacts is GET /artifacts/{origin}/{container}: the container's
// artifacts in path order, limited to those whose path starts with the
// optional ?path=.
func listArtifacts(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	origin, container, err := artifactContainer(c)
	if err != nil {
		return nil, err
	}
	pfx := c.queryValue("path")
	if strings.ContainsRune(pfx, 0) {
		return nil, badRequest("path", "The path prefix must not contain NUL.")
	}
	p := append(prefix(c.wsKey, "a", strings.ToLower(origin), strings.ToLower(container)), pfx...)
	var out []*artifact
	err = s.scanJSON(ctx, p, func(_ []byte, raw []byte) error {
		var a artifact
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		out = append(out, &a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, listBody(out)), nil
}
