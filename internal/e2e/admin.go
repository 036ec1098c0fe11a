package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/report"
)

// FlowRecords reads flow records through the admin API (GET
// /_armlet/flows with query, "" or starting with "?"), and returns them
// with the raw body.
func (a *Armlet) FlowRecords(t testing.TB, query string) ([]netmodel.Flow, string) {
	t.Helper()
	code, _, body := a.Do(t, "GET", "/_armlet/flows"+query, "", nil)
	var out struct{ Value []netmodel.Flow }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("GET /_armlet/flows%s = %d %s", query, code, body)
	}
	return out.Value, body
}

// Exposure reads the exposure report and returns the part of workspace
// wsID; it fails the test when there is none.
func (a *Armlet) Exposure(t testing.TB, wsID string) report.WorkspaceExposure {
	t.Helper()
	return a.exposureOf(t, wsID, func(r report.ExposureReport) []report.WorkspaceExposure { return r.Workspaces },
		func(w report.WorkspaceExposure) string { return w.Workspace })
}

// RegistryExposure returns the exposure report of the registry regID.
func (a *Armlet) RegistryExposure(t testing.TB, regID string) report.WorkspaceExposure {
	t.Helper()
	return a.exposureOf(t, regID, func(r report.ExposureReport) []report.WorkspaceExposure { return r.Registries },
		func(w report.WorkspaceExposure) string { return w.Registry })
}

// StorageExposure returns the exposure report of the storage account
// with ARM ID id.
func (a *Armlet) StorageExposure(t testing.TB, id string) report.WorkspaceExposure {
	t.Helper()
	return a.exposureOf(t, id, func(r report.ExposureReport) []report.WorkspaceExposure { return r.StorageAccounts },
		func(w report.WorkspaceExposure) string { return w.StorageAccount })
}

// VaultExposure returns the exposure report of the key vault with ARM ID
// id.
func (a *Armlet) VaultExposure(t testing.TB, id string) report.WorkspaceExposure {
	t.Helper()
	return a.exposureOf(t, id, func(r report.ExposureReport) []report.WorkspaceExposure { return r.Vaults },
		func(w report.WorkspaceExposure) string { return w.Vault })
}

// exposureOf returns the entry of the report's list whose name is id
// (ignoring case); it fails the test when there is none.
func (a *Armlet) exposureOf(t testing.TB, id string, list func(report.ExposureReport) []report.WorkspaceExposure, name func(report.WorkspaceExposure) string) report.WorkspaceExposure {
	t.Helper()
	rep, body := a.exposure(t)
	for _, w := range list(rep) {
		if strings.EqualFold(name(w), id) {
			return w
		}
	}
	t.Fatalf("no report for %s in %s", id, body)
	return report.WorkspaceExposure{}
}

// exposure reads the whole exposure report, and its body for messages.
func (a *Armlet) exposure(t testing.TB) (report.ExposureReport, string) {
	t.Helper()
	code, _, body := a.Do(t, http.MethodGet, "/_armlet/reports/exposure", "", nil)
	var rep report.ExposureReport
	if code != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil {
		t.Fatalf("GET /_armlet/reports/exposure = %d %s", code, body)
	}
	return rep, body
}

// WaitEndpoints polls the admin API until n private endpoint listeners
// are listed, for up to 10 s, and returns them.
func (a *Armlet) WaitEndpoints(t testing.TB, n int) []netmodel.Listening {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, body := a.Do(t, "GET", "/_armlet/network/endpoints", "", nil)
		var out struct{ Value []netmodel.Listening }
		if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("GET /_armlet/network/endpoints = %d %s", code, body)
		}
		if len(out.Value) == n {
			return out.Value
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listeners, want %d: %s", len(out.Value), n, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FakeEndpoints stands in for the network provider: its Source, given to
// app.WithEndpointSource, lists the approved private endpoints the test
// Sets.
type FakeEndpoints struct {
	mu  sync.Mutex
	eps []netmodel.Endpoint
}

// Set replaces the approved endpoints.
func (f *FakeEndpoints) Set(eps ...netmodel.Endpoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eps = eps
}

// Source is a netmodel.EndpointSource listing the endpoints last Set.
func (f *FakeEndpoints) Source(context.Context) ([]netmodel.Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.eps), nil
}
