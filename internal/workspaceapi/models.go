package workspaceapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// modelStrings are the string members of a v1 Model armlet checks.
var modelStrings = []string{"url", "mimeType", "description", "framework", "frameworkVersion", "experimentName", "runId", "modelFormat"}

func modelKey(c *call, name string, version int) []byte {
	return key(c.wsKey, "M", strings.ToLower(name), fmt.Sprintf("%010d", version))
}

// registerModel is POST /models: a new version of the named model.
//
// Choice: name is required (mimeType and url are optional); versions
// count from 1 per name; id is "{name}:{version}"; kvTags and properties
// must map names to strings; other members are kept as sent; createdTime,
// modifiedTime and createdBy are armlet's.
func registerModel(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	body, err := decodeObject(c.Body, false)
	if err != nil {
		return nil, err
	}
	name, ok, err := body.str("name")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("name", "The model 'name' is required.")
	}
	if err := checkName("model name", "name", name, modelName); err != nil {
		return nil, err
	}
	for _, m := range modelStrings {
		if _, _, err := body.str(m); err != nil {
			return nil, err
		}
	}
	for _, m := range []string{"kvTags", "properties"} {
		if _, _, err := body.stringMap(m); err != nil {
			return nil, err
		}
	}
	var m object
	err = kv.Retry(ctx, func() error {
		last := 0
		err := s.scanJSON(ctx, prefix(c.wsKey, "M", strings.ToLower(name)), func(k []byte, _ []byte) error {
			last, _ = strconv.Atoi(lastPart(k))
			return nil
		})
		if err != nil {
			return err
		}
		version := last + 1
		m = object{}
		for k, v := range body {
			m[k] = v
		}
		for _, k := range []string{"id", "name", "version", "createdTime", "modifiedTime", "createdBy"} {
			for bk := range m {
				if strings.EqualFold(bk, k) {
					delete(m, bk)
				}
			}
		}
		now := c.Now.UTC()
		m["id"], m["name"], m["version"] = fmt.Sprintf("%s:%d", name, version), name, version
		m["createdTime"], m["modifiedTime"], m["createdBy"] = now, now, callerRecord(c.Caller)
		for _, k := range []string{"kvTags", "properties"} {
			if _, ok := m.get(k); !ok {
				m[k] = map[string]string{}
			}
		}
		// Conflicts when another registration took this version: counted again.
		return s.putJSON(ctx, modelKey(c, name, version), m, 0)
	})
	if errors.Is(err, kv.ErrConflict) {
		return nil, userError(http.StatusConflict, "name", "Too many concurrent registrations of the model '%s'; retry.", name).Wrap(err)
	}
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, m), nil
}

// listModels is GET /models with the optional filter name (exact, ignoring
// case). Models are listed by name, then version.
func listModels(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	p := prefix(c.wsKey, "M")
	if name := c.queryValue("name"); name != "" {
		if !modelName.MatchString(name) {
			return engine.JSON(http.StatusOK, listBody([]object(nil))), nil
		}
		p = prefix(c.wsKey, "M", strings.ToLower(name))
	}
	var out []object
	err := s.scanJSON(ctx, p, func(_ []byte, raw []byte) error {
		var m object
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, listBody(out)), nil
}

// modelOf loads the model {id} ("name:version"); a malformed or unknown id
// is a 404.
func (s *Service) modelOf(ctx context.Context, c *call) (object, []byte, error) {
	id := c.param("id")
	name, v, ok := strings.Cut(id, ":")
	version, err := strconv.Atoi(v)
	if !ok || err != nil || version < 1 || !modelName.MatchString(name) {
		return nil, nil, notFound("The model '%s' was not found in the workspace; model ids are 'name:version'.", id)
	}
	var m object
	k := modelKey(c, name, version)
	found, _, err := s.getJSON(ctx, k, &m)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, notFound("The model '%s' was not found in the workspace.", id)
	}
	return m, k, nil
}

func getModel(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	m, _, err := s.modelOf(ctx, c)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, m), nil
}

// deleteModel removes one model version. Choice: its version number is
// not reused while a later version exists.
func deleteModel(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	_, k, err := s.modelOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if _, err := s.kv.Txn(ctx, kv.Delete(k)); err != nil {
		return nil, err
	}
	return &engine.Response{Status: http.StatusOK}, nil
}
