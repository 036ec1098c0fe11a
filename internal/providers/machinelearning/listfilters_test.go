package machinelearning

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestListFiltersIgnored holds the README's word that some list query
// parameters the REST specs define are accepted and ignored: each list
// answers 200 with exactly what it answers without the parameter. A
// filter implemented later fails this test, and the README must then say
// what it does.
func TestListFiltersIgnored(t *testing.T) {
	v := epSetup(t)
	v.epCreate(epOnline+"ep2", `{"location":"eastus","tags":{"team":"b"},"properties":{"authMode":"AMLToken"}}`)
	v.epCreate(epBatch+"batch1", `{"location":"eastus","properties":{"authMode":"AADToken"}}`)
	v.epCreate(epBatch+"batch2", `{"location":"eastus","properties":{"authMode":"AADToken"}}`)
	v.Must(http.MethodPut, epWS+"/models/m1/versions/1", newest, `{"tags":{"a":"1"},"properties":{"modelUri":"azureml://m","description":"one","stage":"Production"}}`, http.StatusCreated)
	v.Must(http.MethodPut, epWS+"/models/m1/versions/2", newest, `{"properties":{"modelUri":"azureml://m","description":"two"}}`, http.StatusCreated)
	v.Must(http.MethodPut, epWS+"/data/d1/versions/1", newest, `{"tags":{"a":"1"},"properties":{"dataType":"uri_file","dataUri":"https://x/y"}}`, http.StatusCreated)
	v.Must(http.MethodPut, epWS+"/data/d1/versions/2", newest, `{"properties":{"dataType":"uri_file","dataUri":"https://x/z"}}`, http.StatusCreated)
	for _, name := range []string{"conn1", "conn2"} {
		v.Must(http.MethodPut, epWS+"/connections/"+name, newest, `{"properties":{"authType":"PAT","category":"Git","target":"https://x","credentials":{"pat":"p"}}}`, http.StatusOK)
	}
	v.Advance(2 * time.Second)
	for _, c := range []struct{ list, query string }{
		{"/models/m1/versions", "version=1"},
		{"/models/m1/versions", "description=one"},
		{"/models/m1/versions", "tags=a=1"},
		{"/models/m1/versions", "properties=p"},
		{"/models/m1/versions", "feed=azureml"},
		{"/models/m1/versions", "stage=Production"},
		{"/models/m1/versions", "offset=1"},
		{"/models/m1/versions", "$skip=1"},
		{"/data/d1/versions", "$tags=a"},
		{"/datastores", "count=1"},
		{"/datastores", "orderBy=name&orderByAsc=false"},
		{"/onlineEndpoints", "name=ep1"},
		{"/onlineEndpoints", "computeType=Kubernetes"},
		{"/onlineEndpoints", "tags=team=b"},
		{"/onlineEndpoints", "orderBy=CreatedAtDesc"},
		{"/onlineEndpoints", "count=1"},
		{"/batchEndpoints", "count=1"},
		{"/connections", "includeAll=true"},
	} {
		t.Run(c.list+"?"+c.query, func(t *testing.T) {
			v.in(t)
			all := v.assetsNames(epWS + c.list)
			if len(all) < 2 {
				t.Fatalf("%s lists %v: too few for a filter to show", c.list, all)
			}
			if got := v.assetsNames(epWS + c.list + "?" + c.query); !slices.Equal(got, all) {
				t.Errorf("with %s: %v, want %v (the parameter is documented as ignored)", c.query, got, all)
			}
		})
	}
}
