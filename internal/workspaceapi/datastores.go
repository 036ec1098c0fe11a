package workspaceapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// dataStoreTypes are the v1 DataStoreDto.dataStoreType values.
var dataStoreTypes = []string{
	"AzureBlob", "AzureFile", "AzureDataLake", "AzureSqlDatabase", "AzurePostgreSql", "DBFS",
	"AzureDataLakeGen2", "GlusterFs", "AzureMySql", "Custom", "Hdfs",
}

// checkDatastore validates a DataStoreDto and returns it with its name
// and dataStoreType in canonical form.
//
// Choice: name and dataStoreType are required; AzureBlob and AzureFile
// datastores need azureStorageSection.accountName and containerName; the
// other members are kept as sent (sections must be objects).
func checkDatastore(body object, pathName string) (object, error) {
	name, ok, err := body.str("name")
	if err != nil {
		return nil, err
	}
	if !ok {
		if pathName == "" {
			return nil, badRequest("name", "The datastore 'name' is required.")
		}
		name = pathName
	}
	if pathName != "" && !strings.EqualFold(name, pathName) {
		return nil, badRequest("name", "The name '%s' in the body does not match the datastore '%s' of the path.", name, pathName)
	}
	if err := checkName("datastore name", "name", name, datastoreName); err != nil {
		return nil, err
	}
	typ, ok, err := body.str("dataStoreType")
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(dataStoreTypes, func(t string) bool { return strings.EqualFold(t, typ) })
	if !ok || i < 0 {
		return nil, badRequest("dataStoreType", "The dataStoreType '%s' is not valid; valid values are %s.", typ, strings.Join(dataStoreTypes, ", "))
	}
	typ = dataStoreTypes[i]
	out := object{}
	for k, v := range body {
		if strings.HasSuffix(strings.ToLower(k), "section") && v != nil {
			if _, isObj := v.(map[string]any); !isObj {
				return nil, badRequest(k, "The value of '%s' must be a JSON object.", k)
			}
		}
		out[k] = v
	}
	for _, k := range []string{"name", "dataStoreType"} {
		for bk := range out {
			if strings.EqualFold(bk, k) {
				delete(out, bk)
			}
		}
	}
	out["name"], out["dataStoreType"] = name, typ
	if typ == "AzureBlob" || typ == "AzureFile" {
		sec, ok, err := out.obj("azureStorageSection")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, badRequest("azureStorageSection", "A datastore of type '%s' needs an 'azureStorageSection'.", typ)
		}
		for _, m := range []string{"accountName", "containerName"} {
			if v, ok, err := sec.str(m); err != nil {
				return nil, err
			} else if !ok || v == "" {
				return nil, badRequest("azureStorageSection."+m, "'azureStorageSection.%s' is required for a datastore of type '%s'.", m, typ)
			}
		}
	}
	return out, nil
}

// showDatastore is the wire form of a stored datastore: without its
// secrets (see v1DatastoreSecrets and v1DatastoreSecretNames), at any
// depth and whatever their casing, unless the request asked for them
// (includeSecret=true: Target.RevealSecrets, authorized as listSecrets).
// d is not changed.
//
// Choice: a hidden secret is left out, not shown as null or as a marker.
// azureml-core reads an absent member and a null one alike (None; its
// _DatastoreClient.list says the list "does not return credentials"), and
// a marker such as "[REDACTED]" would be taken for the account key.
func showDatastore(d object, c *call) object {
	if c.revealSecrets {
		return d
	}
	return withoutSecrets(map[string]any(d), v1DatastoreSecrets, v1DatastoreSecretNames).(map[string]any)
}

func (s *Service) loadDatastore(ctx context.Context, c *call, name string) (object, int64, error) {
	var d object
	found, rev, err := s.getJSON(ctx, key(c.wsKey, "d", strings.ToLower(name)), &d)
	if err != nil || !found {
		return nil, 0, err
	}
	return d, rev, nil
}

func listDatastores(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	var out []object
	err := s.scanJSON(ctx, prefix(c.wsKey, "d"), func(_ []byte, raw []byte) error {
		var d object
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		out = append(out, showDatastore(d, c))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, listBody(out)), nil
}

func getDatastore(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	d, _, err := s.loadDatastore(ctx, c, c.param("name"))
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, notFound("The datastore '%s' was not found in the workspace.", c.param("name"))
	}
	return engine.JSON(http.StatusOK, showDatastore(d, c)), nil
}

// createDatastore is POST /datastores. Choice: a name that exists is a
// 409 (PUT /datastores/{name} replaces).
func createDatastore(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	body, err := decodeObject(c.Body, false)
	if err != nil {
		return nil, err
	}
	d, err := checkDatastore(body, "")
	if err != nil {
		return nil, err
	}
	name := d["name"].(string)
	if err := s.putJSON(ctx, key(c.wsKey, "d", strings.ToLower(name)), d, 0); err != nil {
		if errors.Is(err, kv.ErrConflict) {
			return nil, userError(http.StatusConflict, "name", "The datastore '%s' already exists in the workspace.", name)
		}
		return nil, err
	}
	return engine.JSON(http.StatusOK, showDatastore(d, c)), nil
}

// putDatastore creates or replaces a datastore.
func putDatastore(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	body, err := decodeObject(c.Body, false)
	if err != nil {
		return nil, err
	}
	d, err := checkDatastore(body, c.param("name"))
	if err != nil {
		return nil, err
	}
	name := d["name"].(string)
	_, rev, err := s.loadDatastore(ctx, c, name)
	if err != nil {
		return nil, err
	}
	if err := s.putJSON(ctx, key(c.wsKey, "d", strings.ToLower(name)), d, rev); err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, showDatastore(d, c)), nil
}

// deleteDatastore removes a datastore; if it was the default, the
// workspace has no default any more.
func deleteDatastore(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	name := c.param("name")
	d, rev, err := s.loadDatastore(ctx, c, name)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, notFound("The datastore '%s' was not found in the workspace.", name)
	}
	ops := []kv.Op{kv.Delete(key(c.wsKey, "d", strings.ToLower(name))).If(kv.Cond(rev))}
	var def string
	if found, defRev, err := s.getJSON(ctx, key(c.wsKey, "D"), &def); err != nil {
		return nil, err
	} else if found && strings.EqualFold(def, name) {
		ops = append(ops, kv.Delete(key(c.wsKey, "D")).If(kv.Cond(defRev)))
	}
	if _, err := s.kv.Txn(ctx, ops...); err != nil {
		if errors.Is(err, kv.ErrConflict) {
			return nil, userError(http.StatusConflict, "", "The datastore '%s' was changed by another request; retry.", name)
		}
		return nil, err
	}
	return &engine.Response{Status: http.StatusOK}, nil
}

// getDefaultDatastore is GET /default. Choice: a workspace has no default
// v1 datastore until a client sets one (404 until then).
func getDefaultDatastore(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	var def string
	found, _, err := s.getJSON(ctx, key(c.wsKey, "D"), &def)
	if err != nil {
		return nil, err
	}
	var d object
	if found {
		if d, _, err = s.loadDatastore(ctx, c, def); err != nil {
			return nil, err
		}
	}
	if d == nil {
		return nil, notFound("The workspace has no default datastore.")
	}
	return engine.JSON(http.StatusOK, showDatastore(d, c)), nil
}

// putDefaultDatastore is PUT /default/{name} (azureml-core) or PUT
// /default with {"name"}: the datastore must exist.
func putDefaultDatastore(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	name := c.param("name")
	if name == "" {
		body, err := decodeObject(c.Body, false)
		if err != nil {
			return nil, err
		}
		n, ok, err := body.str("name")
		if err != nil {
			return nil, err
		}
		if !ok || n == "" {
			return nil, badRequest("name", "The datastore 'name' is required.")
		}
		name = n
	}
	d, _, err := s.loadDatastore(ctx, c, name)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, notFound("The datastore '%s' was not found in the workspace.", name)
	}
	b, _ := json.Marshal(d["name"])
	if _, err := s.kv.Txn(ctx, kv.Put(key(c.wsKey, "D"), b)); err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, showDatastore(d, c)), nil
}
