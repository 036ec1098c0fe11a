package machinelearning

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
)

const assetsWS = wsBase + "ws1"

// assetsEnv is an env with workspace ws1 (v2 enabled).
func assetsEnv(t *testing.T) *env {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	return v
}

// assetsNames lists a collection and returns the names, in order.
func (v *env) assetsNames(path string) []string {
	v.t.Helper()
	body := v.Must(http.MethodGet, path, newest, "", http.StatusOK)
	var out []string
	for _, it := range body["value"].([]any) {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	return out
}

func assetsProps(body map[string]any) map[string]any {
	p, _ := body["properties"].(map[string]any)
	return p
}

// assetsContains reports whether the JSON of body contains s.
func assetsContains(t *testing.T, body any, s string) bool {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), s)
}

const blobDatastore = `{"properties":{"datastoreType":"AzureBlob","accountName":"acct","containerName":"c1",
	"credentials":{"credentialsType":"AccountKey","secrets":{"secretsType":"AccountKey","key":"SECRET-KEY-1"}}}}`

func TestDatastoreValidation(t *testing.T) {
	v := assetsEnv(t)
	const ds = assetsWS + "/datastores/"
	tests := []struct {
		name, path, body string
		status           int
		code, target     string
	}{
		{"bad datastoreType", ds + "d1", `{"properties":{"datastoreType":"Ftp","credentials":{"credentialsType":"None"}}}`, 400, "InvalidRequestContent", "properties.datastoreType"},
		{"missing datastoreType", ds + "d1", `{"properties":{"credentials":{"credentialsType":"None"}}}`, 400, "InvalidRequestContent", "properties.datastoreType"},
		{"missing accountName", ds + "d1", `{"properties":{"datastoreType":"AzureBlob","containerName":"c","credentials":{"credentialsType":"None"}}}`, 400, "InvalidRequestContent", "properties.accountName"},
		{"missing containerName", ds + "d1", `{"properties":{"datastoreType":"AzureBlob","accountName":"a","credentials":{"credentialsType":"None"}}}`, 400, "InvalidRequestContent", "properties.containerName"},
		{"missing credentials", ds + "d1", `{"properties":{"datastoreType":"AzureBlob","accountName":"a","containerName":"c"}}`, 400, "InvalidRequestContent", "properties.credentials"},
		{"bad credentialsType", ds + "d1", `{"properties":{"datastoreType":"AzureFile","accountName":"a","fileShareName":"f","credentials":{"credentialsType":"Password"}}}`, 400, "InvalidRequestContent", "properties.credentials.credentialsType"},
		{"account key without secrets", ds + "d1", `{"properties":{"datastoreType":"AzureBlob","accountName":"a","containerName":"c","credentials":{"credentialsType":"AccountKey"}}}`, 400, "InvalidRequestContent", "properties.credentials.secrets"},
		{"secrets of another type", ds + "d1", `{"properties":{"datastoreType":"AzureBlob","accountName":"a","containerName":"c","credentials":{"credentialsType":"AccountKey","secrets":{"secretsType":"Sas","sasToken":"x"}}}}`, 400, "InvalidRequestContent", "properties.credentials.secrets.secretsType"},
		{"service principal without tenant", ds + "d1", `{"properties":{"datastoreType":"AzureDataLakeGen1","storeName":"s","credentials":{"credentialsType":"ServicePrincipal","clientId":"c","secrets":{"secretsType":"ServicePrincipal","clientSecret":"x"}}}}`, 400, "InvalidRequestContent", "properties.credentials.tenantId"},
		{"unknown member", ds + "d1", `{"properties":{"datastoreType":"AzureDataLakeGen2","accountName":"a","filesystem":"f","colour":"red","credentials":{"credentialsType":"None"}}}`, 400, "InvalidRequestContent", "properties.colour"},
		{"onelake without artifact", ds + "d1", `{"properties":{"datastoreType":"OneLake","oneLakeWorkspaceName":"w","credentials":{"credentialsType":"None"}}}`, 400, "InvalidRequestContent", "properties.artifact"},
		{"bad name", ds + "-d1", blobDatastore, 400, "InvalidResourceName", "name"},
		{"workspace missing", wsBase + "nope/datastores/d1", blobDatastore, 404, "ParentResourceNotFound", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v.t = t
			ae := v.Fail(http.MethodPut, tc.path, newest, tc.body, tc.status, tc.code)
			if ae.Target != tc.target {
				t.Errorf("target %q, want %q (%s)", ae.Target, tc.target, ae.Message)
			}
		})
	}
	v.t = t
	v.Fail(http.MethodGet, ds+"d1", newest, "", 404, "ResourceNotFound")
}

func TestDatastoreSecrets(t *testing.T) {
	v := assetsEnv(t)
	const ds = assetsWS + "/datastores/"
	// workspaceblobstore exists (the workspace made it): this is an update.
	put := v.Must(http.MethodPut, ds+"workspaceblobstore?skipValidation=true", newest, blobDatastore, http.StatusOK)
	v.Must(http.MethodPut, ds+"files", newest, `{"properties":{"datastoreType":"AzureFile","accountName":"acct","fileShareName":"share",
		"credentials":{"credentialsType":"Sas","secrets":{"secretsType":"Sas","sasToken":"SECRET-SAS"}}}}`, http.StatusCreated)
	v.Must(http.MethodPut, ds+"lake", newest, `{"properties":{"datastoreType":"OneLake","oneLakeWorkspaceName":"w",
		"artifact":{"artifactType":"LakeHouse","artifactName":"a"},"credentials":{"credentialsType":"None"}}}`, http.StatusCreated)
	get := v.Must(http.MethodGet, ds+"workspaceblobstore", newest, "", http.StatusOK)
	list := v.Must(http.MethodGet, ds, newest, "", http.StatusOK)
	for name, body := range map[string]any{"PUT": put, "GET": get, "list": list} {
		if assetsContains(t, body, "SECRET-") {
			t.Errorf("%s shows secrets: %v", name, body)
		}
	}
	p := assetsProps(get)
	cred := p["credentials"].(map[string]any)
	if got := cred["secrets"]; !reflect.DeepEqual(got, map[string]any{"secretsType": "AccountKey"}) {
		t.Errorf("GET credentials.secrets = %v, want only the secretsType", got)
	}
	if cred["credentialsType"] != "AccountKey" || p["isDefault"] != true || p["endpoint"] != "core.windows.net" ||
		p["protocol"] != "https" || p["serviceDataAccessAuthIdentity"] != "None" || p["provisioningState"] != nil {
		t.Errorf("properties = %v", p)
	}
	if got := v.Must(http.MethodPost, ds+"workspaceblobstore/listSecrets", newest, "", 200); got["secretsType"] != "AccountKey" || got["key"] != "SECRET-KEY-1" {
		t.Errorf("listSecrets = %v", got)
	}
	if got := v.Must(http.MethodPost, ds+"files/listsecrets", newest, "", 200); got["secretsType"] != "Sas" || got["sasToken"] != "SECRET-SAS" {
		t.Errorf("listSecrets = %v", got)
	}
	v.Fail(http.MethodPost, ds+"lake/listSecrets", newest, "", 400, arm.CodeUserError)
	v.Fail(http.MethodPost, ds+"nope/listSecrets", newest, "", 404, "ResourceNotFound")

	// An update replaces the secrets; switching to None drops them.
	upd := strings.Replace(blobDatastore, "SECRET-KEY-1", "SECRET-KEY-2", 1)
	v.Must(http.MethodPut, ds+"workspaceblobstore", newest, upd, http.StatusOK)
	if got := v.Must(http.MethodPost, ds+"workspaceblobstore/listSecrets", newest, "", 200); got["key"] != "SECRET-KEY-2" {
		t.Errorf("listSecrets after update = %v", got)
	}
	// A PATCH that sends no secrets keeps them, and so does a PUT of
	// what a GET shows (the secrets reduced to their type).
	v.Must(http.MethodPatch, ds+"workspaceblobstore", newest, `{"properties":{"description":"patched"}}`, http.StatusOK)
	if got := v.Must(http.MethodPost, ds+"workspaceblobstore/listSecrets", newest, "", 200); got["key"] != "SECRET-KEY-2" {
		t.Errorf("listSecrets after PATCH = %v", got)
	}
	shown, err := json.Marshal(map[string]any{"properties": assetsProps(get)})
	if err != nil {
		t.Fatal(err)
	}
	v.Must(http.MethodPut, ds+"workspaceblobstore", newest, string(shown), http.StatusOK)
	if got := v.Must(http.MethodPost, ds+"workspaceblobstore/listSecrets", newest, "", 200); got["key"] != "SECRET-KEY-2" {
		t.Errorf("listSecrets after a GET-modify-PUT = %v", got)
	}
	v.Must(http.MethodPut, ds+"files", newest, `{"properties":{"datastoreType":"AzureFile","accountName":"acct","fileShareName":"share","credentials":{"credentialsType":"None"}}}`, 200)
	v.Fail(http.MethodPost, ds+"files/listSecrets", newest, "", 400, arm.CodeUserError)

	filters := []struct {
		query string
		want  []string
	}{
		{"", []string{"files", "lake", "workspaceartifactstore", "workspaceblobstore", "workspacefilestore", "workspaceworkingdirectory"}},
		{"?isDefault=true", []string{"workspaceblobstore"}},
		{"?isDefault=false", []string{"files", "lake", "workspaceartifactstore", "workspacefilestore", "workspaceworkingdirectory"}},
		{"?names=lake,FILES", []string{"files", "lake"}},
		{"?searchText=blob&count=5", []string{"workspaceblobstore"}},
	}
	for _, f := range filters {
		if got := v.assetsNames(ds + f.query); !slices.Equal(got, f.want) {
			t.Errorf("list %q = %v, want %v", f.query, got, f.want)
		}
	}
	v.Fail(http.MethodGet, ds+"?isDefault=maybe", newest, "", 400, arm.CodeUserError)
	v.Must(http.MethodDelete, ds+"lake", newest, "", 200)
	v.Must(http.MethodDelete, ds+"lake", newest, "", 204)
}

const patConnection = `{"properties":{"authType":"PAT","category":"git","target":"https://github.com/o/r",
	"credentials":{"pat":"SECRET-PAT"},"metadata":{"k":"v"}}}`

func TestWorkspaceConnectionValidation(t *testing.T) {
	v := assetsEnv(t)
	const cs = assetsWS + "/connections/"
	tests := []struct {
		name, path, body string
		status           int
		code, target     string
	}{
		{"name too short", cs + "ab", patConnection, 400, "InvalidResourceName", "name"},
		{"name too long", cs + strings.Repeat("a", 34), patConnection, 400, "InvalidResourceName", "name"},
		{"name with a dot", cs + "a.bc", patConnection, 400, "InvalidResourceName", "name"},
		{"missing authType", cs + "conn1", `{"properties":{"category":"Git"}}`, 400, "InvalidRequestContent", "properties.authType"},
		{"bad authType", cs + "conn1", `{"properties":{"authType":"Kerberos"}}`, 400, "InvalidRequestContent", "properties.authType"},
		{"credentials of another type", cs + "conn1", `{"properties":{"authType":"PAT","credentials":{"key":"x"}}}`, 400, "InvalidRequestContent", "properties.credentials.key"},
		{"credentials on None", cs + "conn1", `{"properties":{"authType":"None","credentials":{"pat":"x"}}}`, 400, "InvalidRequestContent", "properties.credentials"},
		{"bad expiryTime", cs + "conn1", `{"properties":{"authType":"None","expiryTime":"tomorrow"}}`, 400, "InvalidRequestContent", "properties.expiryTime"},
		{"bad valueFormat", cs + "conn1", `{"properties":{"authType":"None","valueFormat":"XML"}}`, 400, "InvalidRequestContent", "properties.valueFormat"},
		{"later member at an old version", cs + "conn1?api-version=2024-04-01", `{"properties":{"authType":"None","peRequirement":"Required"}}`, 400, "InvalidRequestContent", "properties.peRequirement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v.t = t
			ae := v.Fail(http.MethodPut, tc.path, newest, tc.body, tc.status, tc.code)
			if ae.Target != tc.target {
				t.Errorf("target %q, want %q (%s)", ae.Target, tc.target, ae.Message)
			}
		})
	}
	v.t = t
	v.Must(http.MethodPut, cs+"conn1?api-version=2024-10-01", "", `{"properties":{"authType":"None","peRequirement":"Required"}}`, 200)
}

func TestWorkspaceConnectionSecrets(t *testing.T) {
	v := assetsEnv(t)
	const cs = assetsWS + "/connections/"
	put := v.Must(http.MethodPut, cs+"git-1", newest, patConnection, http.StatusOK)
	v.Must(http.MethodPut, cs+"git-1", newest, patConnection, http.StatusOK)
	v.Must(http.MethodPut, cs+"keys", newest, `{"properties":{"authType":"CustomKeys","category":"CustomKeys","target":"https://x",
		"credentials":{"keys":{"a":"SECRET-A"}}}}`, http.StatusOK)
	v.Must(http.MethodPut, cs+"aad", newest, `{"properties":{"authType":"AAD","category":"AzureOpenAI","target":"https://aoai"}}`, http.StatusOK)
	get := v.Must(http.MethodGet, cs+"git-1", newest, "", http.StatusOK)
	list := v.Must(http.MethodGet, cs, newest, "", http.StatusOK)
	for name, body := range map[string]any{"PUT": put, "GET": get, "list": list} {
		if assetsContains(t, body, "SECRET-") || assetsContains(t, body, `"credentials"`) {
			t.Errorf("%s shows credentials: %v", name, body)
		}
	}
	p := assetsProps(get)
	if get["type"] != TypeWorkspaceConnections || p["category"] != "Git" || p["authType"] != "PAT" ||
		p["createdByWorkspaceArmId"] != assetsWS || p["target"] != "https://github.com/o/r" {
		t.Errorf("GET = %v", get)
	}
	for _, action := range []string{"listsecrets", "listSecrets"} {
		got := v.Must(http.MethodPost, cs+"git-1/"+action, newest, "", 200)
		cred, _ := assetsProps(got)["credentials"].(map[string]any)
		if cred["pat"] != "SECRET-PAT" || got["name"] != "git-1" || assetsProps(got)["category"] != "Git" {
			t.Errorf("%s = %v", action, got)
		}
	}
	v.Must(http.MethodPatch, cs+"keys", newest, `{"properties":{"metadata":{"m":"1"}}}`, http.StatusOK)
	got := v.Must(http.MethodPost, cs+"keys/listsecrets", newest, "", 200)
	if !assetsContains(t, got, "SECRET-A") {
		t.Errorf("listsecrets = %v", got)
	}
	if got := v.Must(http.MethodPost, cs+"aad/listsecrets", newest, "", 200); assetsProps(got)["credentials"] != nil {
		t.Errorf("AAD listsecrets = %v", got)
	}
	filters := []struct {
		query string
		want  []string
	}{
		{"", []string{"aad", "git-1", "keys"}},
		{"?category=git", []string{"git-1"}},
		{"?target=https://aoai", []string{"aad"}},
		{"?target=https://aoai&category=Git", nil},
	}
	for _, f := range filters {
		if got := v.assetsNames(cs + f.query); !slices.Equal(got, f.want) {
			t.Errorf("list %q = %v, want %v", f.query, got, f.want)
		}
	}
}

func TestAssetValidation(t *testing.T) {
	v := assetsEnv(t)
	v.Must(http.MethodPut, assetsWS+"/models/m1/versions/1", newest, `{"properties":{"modelUri":"azureml://m","description":"d"}}`, 201)
	v.Must(http.MethodPut, assetsWS+"/data/d1/versions/1", newest, `{"properties":{"dataType":"uri_file","dataUri":"https://x/f.csv"}}`, 201)
	tests := []struct {
		name, path, body string
		status           int
		code, target     string
	}{
		{"data without dataUri", "/data/d2/versions/1", `{"properties":{"dataType":"uri_folder"}}`, 400, "InvalidRequestContent", "properties.dataUri"},
		{"data with a bad dataType", "/data/d2/versions/1", `{"properties":{"dataType":"table","dataUri":"x"}}`, 400, "InvalidRequestContent", "properties.dataType"},
		{"data of another type than its container", "/data/d1/versions/2", `{"properties":{"dataType":"mltable","dataUri":"x"}}`, 400, arm.CodeUserError, "properties.dataType"},
		{"data container without dataType", "/data/d3", `{"properties":{}}`, 400, "InvalidRequestContent", "properties.dataType"},
		{"data container changes dataType", "/data/d1", `{"properties":{"dataType":"uri_folder"}}`, 409, arm.CodeUserError, "properties.dataType"},
		{"environment without image or build", "/environments/e1/versions/1", `{"properties":{"condaFile":"x"}}`, 400, arm.CodeUserError, "properties.image"},
		{"environment build without contextUri", "/environments/e1/versions/1", `{"properties":{"build":{}}}`, 400, "InvalidRequestContent", "properties.build.contextUri"},
		{"environment bad osType", "/environments/e1/versions/1", `{"properties":{"image":"i","osType":"Plan9"}}`, 400, "InvalidRequestContent", "properties.osType"},
		{"unknown member", "/codes/c1/versions/1", `{"properties":{"codeUri":"x","size":1}}`, 400, "InvalidRequestContent", "properties.size"},
		{"bad version name", "/codes/c1/versions/.1", `{"properties":{}}`, 400, "InvalidResourceName", "name"},
		{"bad implicit container name", "/codes/c.1/versions/1", `{"properties":{}}`, 400, "InvalidResourceName", "name"},
		{"immutable modelUri", "/models/m1/versions/1", `{"properties":{"modelUri":"azureml://other","description":"d"}}`, 409, arm.CodeUserError, "properties.modelUri"},
		{"immutable removed member", "/models/m1/versions/1", `{"properties":{"description":"d"}}`, 409, arm.CodeUserError, "properties.modelUri"},
		{"immutable dataUri", "/data/d1/versions/1", `{"properties":{"dataType":"uri_file","dataUri":"https://y"}}`, 409, arm.CodeUserError, "properties.dataUri"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v.t = t
			ae := v.Fail(http.MethodPut, assetsWS+tc.path, newest, tc.body, tc.status, tc.code)
			if ae.Target != tc.target {
				t.Errorf("target %q, want %q (%s)", ae.Target, tc.target, ae.Message)
			}
			if tc.status == 409 && strings.Contains(tc.path, "/versions/") && !strings.Contains(ae.Message, "Version '1'") {
				t.Errorf("message does not name the version: %s", ae.Message)
			}
		})
	}
	v.t = t
	for _, list := range []string{"/codes?listViewType=Some", "/models/m1/versions?listViewType=Some", "/models/m1/versions?$orderBy=size"} {
		v.Fail(http.MethodGet, assetsWS+list, newest, "", 400, arm.CodeUserError)
	}
	// Nothing half-written: the refused implicit containers do not exist.
	for _, c := range []string{"/data/d2", "/environments/e1", "/codes/c1"} {
		v.Fail(http.MethodGet, assetsWS+c, newest, "", 404, "ResourceNotFound")
	}
}

func TestAssetVersions(t *testing.T) {
	v := assetsEnv(t)
	const models = assetsWS + "/models/"
	// The first version creates its container.
	ver := v.Must(http.MethodPut, models+"m1/versions/1", newest, `{"properties":{"modelUri":"azureml://m/1","tags":{"a":"1"},"properties":{"p":"1"}}}`, 201)
	if p := assetsProps(ver); p["modelType"] != "custom_model" || ver["type"] != TypeWorkspaces+"/models/versions" ||
		!reflect.DeepEqual(p["flavors"], map[string]any{}) {
		t.Errorf("version = %v, want modelType custom_model and empty flavors", ver)
	}
	c := v.Must(http.MethodGet, models+"m1", newest, "", 200)
	if p := assetsProps(c); c["type"] != TypeWorkspaces+"/models" || p["latestVersion"] != "1" || p["nextVersion"] != "2" || p["isArchived"] != nil {
		t.Errorf("implicit container = %v", c)
	}
	v.Advance(1)
	v.Must(http.MethodPut, models+"m1/versions/10", newest, `{"properties":{"modelUri":"azureml://m/10"}}`, 201)
	v.Advance(1)
	v.Must(http.MethodPut, models+"m1/versions/2", newest, `{"properties":{"modelUri":"azureml://m/2"}}`, 201)
	if p := assetsProps(v.Must(http.MethodGet, models+"m1", newest, "", 200)); p["latestVersion"] != "2" || p["nextVersion"] != "11" {
		t.Errorf("container after 3 versions = %v", p)
	}
	// The mutable members change; the version is otherwise kept.
	upd := v.Must(http.MethodPut, models+"m1/versions/1", newest,
		`{"properties":{"modelUri":"azureml://m/1","description":"new","tags":{"b":"2"},"properties":{"p":"1","q":"2"},"isArchived":true}}`, 200)
	if p := assetsProps(upd); p["description"] != "new" || p["isArchived"] != true || p["properties"].(map[string]any)["q"] != "2" {
		t.Errorf("updated = %v", upd)
	}
	v.Fail(http.MethodPut, models+"m1/versions/1", newest, `{"properties":{"modelUri":"azureml://m/1","properties":{"p":"changed"}}}`, 409, arm.CodeUserError)

	views := []struct {
		query string
		want  []string
	}{
		{"", []string{"10", "2"}},
		{"?listViewType=ActiveOnly", []string{"10", "2"}},
		{"?listViewType=archivedonly", []string{"1"}},
		{"?listViewType=All", []string{"1", "10", "2"}},
		{"?listViewType=All&$orderBy=createdtime desc", []string{"2", "10", "1"}},
		{"?listViewType=All&$orderBy=createdtime asc&$top=2", []string{"1", "10"}},
		{"?$orderBy=version desc", []string{"10", "2"}},
	}
	for _, q := range views {
		if got := v.assetsNames(models + "m1/versions" + q.query); !slices.Equal(got, q.want) {
			t.Errorf("versions %q = %v, want %v", q.query, got, q.want)
		}
	}
	// Archive and unarchive a container.
	v.Must(http.MethodPut, models+"m2", newest, `{"properties":{"description":"two"}}`, 201)
	v.Must(http.MethodPut, models+"m1", newest, `{"properties":{"isArchived":true}}`, 200)
	if got := v.assetsNames(models[:len(models)-1]); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("active containers = %v", got)
	}
	if got := v.assetsNames(models[:len(models)-1] + "?listViewType=ArchivedOnly"); !slices.Equal(got, []string{"m1"}) {
		t.Errorf("archived containers = %v", got)
	}
	v.Must(http.MethodPut, models+"m1", newest, `{"properties":{"isArchived":false}}`, 200)
	if got := v.assetsNames(models[:len(models)-1]); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Errorf("containers after unarchive = %v", got)
	}
	if p := assetsProps(v.Must(http.MethodGet, models+"m2", newest, "", 200)); p["nextVersion"] != "1" || p["latestVersion"] != nil {
		t.Errorf("empty container = %v", p)
	}
	// Deleting a container deletes its versions.
	v.Must(http.MethodDelete, models+"m1", newest, "", 200)
	v.Fail(http.MethodGet, models+"m1/versions/2", newest, "", 404, "ParentResourceNotFound")
	v.Must(http.MethodPut, models+"m1/versions/5", newest, `{"properties":{}}`, 201)
	if got := v.assetsNames(models + "m1/versions?listViewType=All"); !slices.Equal(got, []string{"5"}) {
		t.Errorf("versions after recreate = %v", got)
	}
}

func TestAssetKinds(t *testing.T) {
	v := assetsEnv(t)
	env := v.Must(http.MethodPut, assetsWS+"/environments/e1/versions/1", newest,
		`{"properties":{"image":"mcr.microsoft.com/azureml/base","condaFile":"name: x","inferenceConfig":{"scoringRoute":{"path":"/score","port":5001}}}}`, 201)
	if p := assetsProps(env); p["environmentType"] != "UserCreated" || p["osType"] != "Linux" || p["autoRebuild"] != "Disabled" {
		t.Errorf("environment = %v", p)
	}
	comp := v.Must(http.MethodPut, assetsWS+"/components/c1/versions/1", newest,
		`{"properties":{"componentSpec":{"name":"c1","type":"command","inputs":{"x":{"type":"integer","default":3}}}}}`, 201)
	if spec := assetsProps(comp)["componentSpec"].(map[string]any); spec["type"] != "command" {
		t.Errorf("component = %v", comp)
	}
	data := v.Must(http.MethodPut, assetsWS+"/data/tbl/versions/1", newest,
		`{"properties":{"dataType":"MLTable","dataUri":"azureml://datastores/d/paths/t","referencedUris":["a"]}}`, 201)
	if p := assetsProps(data); p["dataType"] != "mltable" {
		t.Errorf("data = %v", p)
	}
	if p := assetsProps(v.Must(http.MethodGet, assetsWS+"/data/tbl", newest, "", 200)); p["dataType"] != "mltable" || p["latestVersion"] != "1" {
		t.Errorf("implicit data container = %v", p)
	}
	v.Must(http.MethodPut, assetsWS+"/codes/src/versions/1", newest, `{"properties":{"codeUri":"https://acct.blob.core.windows.net/c/src"}}`, 201)
	up := v.Must(http.MethodPost, assetsWS+"/codes/src/versions/1/startPendingUpload", newest, `{"pendingUploadType":"TemporaryBlobReference","pendingUploadId":"u1"}`, 200)
	ref := up["blobReferenceForConsumption"].(map[string]any)
	cred := ref["credential"].(map[string]any)
	if up["pendingUploadId"] != "u1" || up["pendingUploadType"] != "TemporaryBlobReference" || ref["storageAccountArmId"] != storageID ||
		!strings.HasPrefix(ref["blobUri"].(string), "https://store1.blob.core.windows.net/azureml-blobstore-") ||
		cred["credentialType"] != "SAS" || !strings.HasPrefix(cred["sasUri"].(string), ref["blobUri"].(string)+"?") {
		t.Errorf("startPendingUpload = %v", up)
	}
	v.Fail(http.MethodPost, assetsWS+"/codes/src/versions/1/startPendingUpload", newest, `{"pendingUploadType":"Later"}`, 400, "InvalidRequestContent")
	v.Must(http.MethodPut, assetsWS+"/models/m/versions/1", newest, `{"properties":{}}`, 201)
	v.Fail(http.MethodPost, assetsWS+"/models/m/versions/1/startPendingUpload", newest, `{}`, 400, "InvalidResourceType")
}

// TestAssetsLegacyMode checks rule L5 for this area's resources.
func TestAssetsLegacyMode(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("old", "2021-07-01", baseBody)
	for _, p := range []string{"/datastores/d1", "/connections/c1", "/codes/c1", "/codes/c1/versions/1", "/data"} {
		v.Fail(http.MethodGet, wsBase+"old"+p, newest, "", 400, arm.CodeUserError)
	}
	v.Fail(http.MethodPut, wsBase+"old/models/m1/versions/1", newest, `{"properties":{}}`, 400, arm.CodeUserError)
}

// TestAssetsAzureSpellings: bodies Azure's examples show as accepted are
// accepted: a data container or version whose dataType is the enum's
// member name ("UriFile", stored as "uri_file"), and an environment
// version with both image and build.
func TestAssetsAzureSpellings(t *testing.T) {
	v := assetsEnv(t)
	for _, tc := range []struct{ path, body, member, want string }{
		{"/data/dc1", `{"properties":{"dataType":"UriFile"}}`, "dataType", "uri_file"},
		{"/data/dc2", `{"properties":{"dataType":"MLTable"}}`, "dataType", "mltable"},
		{"/data/dc1/versions/1", `{"properties":{"dataType":"UriFile","dataUri":"https://x/f.csv"}}`, "dataType", "uri_file"},
		{"/data/dc3/versions/1", `{"properties":{"dataType":"urifolder","dataUri":"https://x/f"}}`, "dataType", "uri_folder"},
		{"/environments/e2/versions/1", `{"properties":{"image":"i","build":{"contextUri":"https://x/c"}}}`, "image", "i"},
	} {
		got := v.Must(http.MethodPut, assetsWS+tc.path, newest, tc.body, 201)
		if p := got["properties"].(map[string]any); p[tc.member] != tc.want {
			t.Errorf("%s: %s = %v, want %s", tc.path, tc.member, p[tc.member], tc.want)
		}
	}
}
