package machinelearning

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

const locBase = "/subscriptions/" + testSub + "/providers/Microsoft.MachineLearningServices/locations/"

// quotaEnv has workspaces cws (eastus: a DSv2 cluster settled at 2 nodes
// of 4 vCPUs and a running DSv2 instance of 4), ws2 (eastus: an NC6
// cluster of one node) and wwest (westus, nothing).
func quotaEnv(t *testing.T) *env {
	v := computeEnv(t)
	v.computeCreate("cpu", `{"properties":{"computeType":"AmlCompute","properties":{"vmSize":"STANDARD_DS3_V2","scaleSettings":{"maxNodeCount":4,"minNodeCount":2}}}}`)
	v.computeCreate("ci1", ciBody)
	v.computeCreate("lowpri", `{"properties":{"computeType":"AmlCompute","properties":{"vmSize":"Standard_DS3_v2","vmPriority":"LowPriority","scaleSettings":{"maxNodeCount":4,"minNodeCount":3}}}}`)
	v.createWorkspace("ws2", newest, `{"location":"East US","properties":{}}`)
	v.Must(http.MethodPut, wsBase+"ws2/computes/gpu", newest, `{"properties":{"computeType":"AmlCompute","properties":{"vmSize":"Standard_NC6","scaleSettings":{"maxNodeCount":2,"minNodeCount":1}}}}`, 201)
	v.createWorkspace("wwest", newest, `{"location":"westus","properties":{}}`)
	v.Advance(10 * time.Minute)
	return v
}

// byID indexes a list's entries by lower-cased id and type.
func byID(t *testing.T, body map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, e := range body["value"].([]any) {
		m := e.(map[string]any)
		out[strings.ToLower(m["id"].(string))+" "+m["type"].(string)] = m
	}
	return out
}

func TestLocationUsages(t *testing.T) {
	v := quotaEnv(t)
	body := v.Must(http.MethodGet, locBase+"eastus/usages", newest, "", 200)
	got := byID(t, body)
	sub := strings.ToLower("/subscriptions/" + testSub)
	dsv2 := "standard_dsv2_family_cluster_dedicated_vcpus"
	want := []struct {
		id, typ string
		current float64
		limit   float64
	}{
		{sub + "/usages", "totalCores/usages", 4, 100}, // cpu, ci1, lowpri, gpu
		{sub + "/usages", "dedicatedCores/usages", 8 + 4 + 6, 100},
		{sub + "/usages/" + dsv2, "vmFamily/usages", 12, 24},
		{sub + "/usages/standard_nc_family_cluster_dedicated_vcpus", "vmFamily/usages", 6, 24},
		{sub + "/usages/standard_fsv2_family_cluster_dedicated_vcpus", "vmFamily/usages", 0, 24},
		{strings.ToLower(computeWS) + "/usages/" + dsv2, "workspaces/usages", 12, 24},
		{strings.ToLower(computePath) + "cpu/usages/" + dsv2, "workspaces/computes/usages", 8, 24},
		{strings.ToLower(computePath) + "ci1/usages/" + dsv2, "workspaces/computes/usages", 4, 24},
		{strings.ToLower(computePath) + "lowpri/usages/" + dsv2, "workspaces/computes/usages", 0, 24},
	}
	for _, w := range want {
		e := got[w.id+" Microsoft.MachineLearningServices/"+w.typ]
		if e == nil {
			t.Errorf("no usage %s %s", w.id, w.typ)
			continue
		}
		if e["currentValue"] != w.current || e["limit"] != w.limit || e["unit"] != "Count" {
			t.Errorf("usage %s %s = %v, want %v of %v", w.id, w.typ, e, w.current, w.limit)
		}
	}
	if e := got[strings.ToLower(wsBase)+"ws2/usages/"+dsv2+" Microsoft.MachineLearningServices/workspaces/usages"]; e != nil {
		t.Errorf("a workspace without usage of a family is listed: %v", e)
	}
	name := got[sub+"/usages/"+dsv2+" Microsoft.MachineLearningServices/vmFamily/usages"]["name"].(map[string]any)
	if name["value"] != "Standard DSv2 Family Cluster Dedicated vCPUs" || name["localizedValue"] != name["value"] {
		t.Errorf("usage name = %v", name)
	}
	// westus has the westus workspace only, which uses nothing.
	west := byID(t, v.Must(http.MethodGet, locBase+"westus/usages", newest, "", 200))
	if e := west[sub+"/usages Microsoft.MachineLearningServices/totalCores/usages"]; e["currentValue"] != 0.0 {
		t.Errorf("westus clusters = %v", e)
	}
	// A stopped instance uses no cores.
	resp, err := v.Serve(http.MethodPost, computePath+"ci1/stop", newest, "")
	if err != nil || resp.Status != 202 {
		t.Fatalf("stop: %v %v", resp, err)
	}
	v.Advance(10 * time.Minute)
	after := byID(t, v.Must(http.MethodGet, locBase+"eastus/usages", newest, "", 200))
	if e := after[strings.ToLower(computePath)+"ci1/usages/"+dsv2+" Microsoft.MachineLearningServices/workspaces/computes/usages"]; e == nil || e["currentValue"] != 0.0 {
		t.Errorf("stopped instance usage = %v", e)
	}
}

func TestLocationQuotas(t *testing.T) {
	v := quotaEnv(t)
	dsv2 := "Standard_DSv2_Family_Cluster_Dedicated_vCPUs"
	quota := func(ws, family string) string { return wsBase + ws + "/quotas/" + family }
	item := func(id string, limit int) string {
		return `{"type":"Microsoft.MachineLearningServices/workspaces/quotas","id":"` + id + `","limit":` + strconv.Itoa(limit) + `,"unit":"Count"}`
	}
	body := `{"location":"eastus","value":[` + strings.Join([]string{
		item(quota("cws", dsv2), 20),
		item(quota("ws2", dsv2), 200),
		item(quota("ws2", "Standard_Quantum_Family_Cluster_Dedicated_vCPUs"), 4),
		item(quota("cws", "Standard_NC_Family_Cluster_Dedicated_vCPUs"), 0),
		item(quota("ws2", "Standard_NC_Family_Cluster_Dedicated_vCPUs"), 2),
		item(quota("wwest", dsv2), 4),
		item(quota("nows", dsv2), 4),
	}, ",") + `]}`
	res := v.Must(http.MethodPost, locBase+"eastus/updateQuotas", newest, body, 200)
	wantStatus := []string{"Success", "InvalidQuotaExceedsSubscriptionLimit", "InvalidVMFamilyName", "Success",
		"InvalidQuotaBelowClusterMinimum", "Failure", "Failure"}
	for i, e := range res["value"].([]any) {
		m := e.(map[string]any)
		if m["status"] != wantStatus[i] || m["type"] != "Microsoft.MachineLearningServices/workspaces/quotas" {
			t.Errorf("item %d: %v, want status %s", i, m, wantStatus[i])
		}
	}
	got := byID(t, v.Must(http.MethodGet, locBase+"eastus/quotas", newest, "", 200))
	checks := []struct {
		id, typ string
		limit   float64
	}{
		{"/subscriptions/" + testSub + "/quotas/" + dsv2, "vmFamily/quotas", 24},
		{quota("cws", dsv2), "workspaces/quotas", 20},
		{quota("ws2", dsv2), "workspaces/quotas", 24},
		{quota("cws", "Standard_NC_Family_Cluster_Dedicated_vCPUs"), "workspaces/quotas", 0},
		{quota("ws2", "Standard_NC_Family_Cluster_Dedicated_vCPUs"), "workspaces/quotas", 24},
	}
	for _, c := range checks {
		e := got[strings.ToLower(c.id)+" Microsoft.MachineLearningServices/"+c.typ]
		if e == nil || e["limit"] != c.limit {
			t.Errorf("quota %s = %v, want limit %v", c.id, e, c.limit)
		}
	}
	if e := got[strings.ToLower(quota("wwest", dsv2))+" Microsoft.MachineLearningServices/workspaces/quotas"]; e != nil {
		t.Errorf("a westus workspace in the eastus quotas: %v", e)
	}
	// The usages show the workspace's quota as its limit.
	usages := byID(t, v.Must(http.MethodGet, locBase+"eastus/usages", newest, "", 200))
	if e := usages[strings.ToLower(computeWS+"/usages/"+dsv2)+" Microsoft.MachineLearningServices/workspaces/usages"]; e["limit"] != 20.0 {
		t.Errorf("workspace usage limit = %v, want the quota 20", e)
	}

	refusals := []struct {
		name, body, member string
		status             int
		code               string
	}{
		{"no value", `{"location":"eastus"}`, "value", 400, "InvalidRequestContent"},
		{"value not a list", `{"value":{}}`, "value", 400, "InvalidRequestContent"},
		{"other location", `{"location":"westus","value":[]}`, "location", 400, arm.CodeUserError},
		{"unknown member", `{"value":[],"force":true}`, "force", 400, "InvalidRequestContent"},
		{"id not a quota", `{"value":[{"id":"` + computeWS + `","limit":1}]}`, "value[0].id", 400, "InvalidRequestContent"},
		{"other subscription", `{"value":[{"id":"` + strings.Replace(quota("cws", dsv2), testSub, "99999999-1111-2222-3333-444444444444", 1) + `","limit":1}]}`, "value[0].id", 400, arm.CodeUserError},
		{"negative limit", `{"value":[{"id":"` + quota("cws", dsv2) + `","limit":-1}]}`, "value[0].limit", 400, "InvalidRequestContent"},
		{"fractional limit", `{"value":[{"id":"` + quota("cws", dsv2) + `","limit":1.5}]}`, "value[0].limit", 400, "InvalidRequestContent"},
		{"no limit", `{"value":[{"id":"` + quota("cws", dsv2) + `"}]}`, "value[0].limit", 400, "InvalidRequestContent"},
		{"wrong type", `{"value":[{"id":"` + quota("cws", dsv2) + `","limit":1,"type":"vmFamily/quotas"}]}`, "value[0].type", 400, "InvalidRequestContent"},
		{"wrong unit", `{"value":[{"id":"` + quota("cws", dsv2) + `","limit":1,"unit":"Bytes"}]}`, "value[0].unit", 400, "InvalidRequestContent"},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			v.in(t)
			ae := v.Fail(http.MethodPost, locBase+"eastus/updateQuotas", newest, c.body, c.status, c.code)
			if ae.Target != c.member {
				t.Errorf("target %q (%s), want %q", ae.Target, ae.Message, c.member)
			}
		})
	}
	// A workspace deleted and made again starts from the family limits.
	v.Must(http.MethodPost, locBase+"eastus/updateQuotas", newest, `{"value":[`+item(quota("ws2", "Standard_FSv2_Family_Cluster_Dedicated_vCPUs"), 8)+`]}`, 200)
	v.Must(http.MethodDelete, wsBase+"ws2", newest, "", 202)
	v.Advance(10 * time.Minute)
	if err := v.e.ReapDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	v.createWorkspace("ws2", newest, `{"location":"eastus","properties":{}}`)
	if e := byID(t, v.Must(http.MethodGet, locBase+"eastus/quotas", newest, "", 200))[strings.ToLower(quota("ws2", "Standard_FSv2_Family_Cluster_Dedicated_vCPUs"))+" Microsoft.MachineLearningServices/workspaces/quotas"]; e["limit"] != 24.0 {
		t.Errorf("quota of a workspace made again: %v", e)
	}
	// A refused request changes nothing.
	if e := byID(t, v.Must(http.MethodGet, locBase+"eastus/quotas", newest, "", 200))[strings.ToLower(quota("cws", dsv2))+" Microsoft.MachineLearningServices/workspaces/quotas"]; e["limit"] != 20.0 {
		t.Errorf("after refusals: %v", e)
	}
}

// TestLocationRoutes checks what every location-based operation shares:
// methods, api-versions, unknown regions and subscriptions.
func TestLocationRoutes(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	tests := []struct {
		name, method, path, version string
		status                      int
		code                        string
	}{
		{"vmSizes", "GET", locBase + "eastus/vmSizes", newest, 200, ""},
		{"vmSizes in a canary region", "GET", locBase + "eastus2euap/vmSizes", newest, 200, ""},
		{"usages, type ignoring case", "GET", locBase + "centraluseuap/USAGES", "2025-09-01", 200, ""},
		{"quotas at an old version", "GET", locBase + "westeurope/quotas", "2021-04-01", 200, ""},
		{"updateQuotas empty", "POST", locBase + "eastus/updateQuotas", newest, 200, ""},
		{"unknown region", "GET", locBase + "mars/vmSizes", newest, 400, arm.CodeNoRegisteredProvider},
		{"unknown region, update", "POST", locBase + "atlantis/updateQuotas", newest, 400, arm.CodeNoRegisteredProvider},
		{"unknown api-version", "GET", locBase + "eastus/usages", "2024-04-02", 400, arm.CodeNoRegisteredProvider},
		{"no api-version", "GET", locBase + "eastus/usages", "", 400, "MissingApiVersionParameter"},
		{"POST a list", "POST", locBase + "eastus/vmSizes", newest, 405, arm.CodeMethodNotAllowed},
		{"GET updateQuotas", "GET", locBase + "eastus/updateQuotas", newest, 405, arm.CodeMethodNotAllowed},
		{"unknown subscription", "GET", strings.Replace(locBase, testSub, "99999999-1111-2222-3333-444444444444", 1) + "eastus/vmSizes", newest, 404, arm.CodeSubscriptionNotFound},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			v.in(t)
			body := ""
			if c.method == "POST" {
				body = `{"value":[]}`
			}
			if c.status == 200 {
				v.Must(c.method, c.path, c.version, body, 200)
				return
			}
			v.Fail(c.method, c.path, c.version, body, c.status, c.code)
		})
	}
}

func TestVMSizes(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	list := v.Must(http.MethodGet, locBase+"eastus/vmSizes", newest, "", 200)["value"].([]any)
	if len(list) != len(vmSizes) {
		t.Fatalf("%d sizes, want the catalogue's %d", len(list), len(vmSizes))
	}
	var ds2 map[string]any
	names := map[string]bool{}
	for _, e := range list {
		m := e.(map[string]any)
		if names[strings.ToLower(m["name"].(string))] {
			t.Errorf("size %s listed twice", m["name"])
		}
		names[strings.ToLower(m["name"].(string))] = true
		if m["name"] == "Standard_DS2_v2" {
			ds2 = m
		}
		for _, k := range []string{"family", "vCPUs", "gpus", "osVhdSizeMB", "maxResourceVolumeMB", "memoryGB", "lowPriorityCapable", "premiumIO", "estimatedVMPrices", "supportedComputeTypes"} {
			if _, ok := m[k]; !ok {
				t.Errorf("size %s lacks %s", m["name"], k)
			}
		}
		if _, seg := familyQuotaName(m["family"].(string)); !strings.HasSuffix(seg, "_Family_Cluster_Dedicated_vCPUs") || strings.Contains(seg, "standard") {
			t.Errorf("family %s gives quota name %s", m["family"], seg)
		}
	}
	// The example's Standard_DS2_v2.
	if ds2 == nil || ds2["family"] != "standardDSv2Family" || ds2["vCPUs"] != 2.0 || ds2["gpus"] != 0.0 || ds2["memoryGB"] != 7.0 ||
		ds2["maxResourceVolumeMB"] != 14336.0 || ds2["osVhdSizeMB"] != 1047552.0 || ds2["premiumIO"] != true {
		t.Fatalf("Standard_DS2_v2 = %v", ds2)
	}
	types := ds2["supportedComputeTypes"].([]any)
	if !slices.Contains(types, any("AmlCompute")) || !slices.Contains(types, any("ComputeInstance")) || !slices.Contains(types, any("MIR")) {
		t.Errorf("supportedComputeTypes = %v", types)
	}
	prices := ds2["estimatedVMPrices"].(map[string]any)
	vals := prices["values"].([]any)
	if prices["billingCurrency"] != "USD" || prices["unitOfMeasure"] != "OneHour" || len(vals) != 4 {
		t.Fatalf("prices = %v", prices)
	}
	price := map[string]float64{}
	for _, p := range vals {
		m := p.(map[string]any)
		price[m["osType"].(string)+"/"+m["vmTier"].(string)] = m["retailPrice"].(float64)
	}
	if !(price["Linux/LowPriority"] < price["Linux/Standard"] && price["Linux/Standard"] < price["Windows/Standard"] && price["Windows/LowPriority"] < price["Windows/Standard"]) {
		t.Errorf("prices out of order: %v", price)
	}
	// Every compute default size is in the catalogue (usages count them).
	if _, ok := lookupVMSize("STANDARD_DS3_V2"); !ok {
		t.Error("the compute default size STANDARD_DS3_V2 is not in the catalogue")
	}
}
