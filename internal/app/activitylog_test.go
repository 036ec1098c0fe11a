package app_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/e2e"
)

// alList lists the activity log with armmonitor's pager.
func alList(t *testing.T, c *armmonitor.ActivityLogsClient, filter string, sel *string) ([]*armmonitor.EventData, error) {
	t.Helper()
	var out []*armmonitor.EventData
	pager := c.NewListPager(filter, &armmonitor.ActivityLogsClientListOptions{Select: sel})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
	}
	return out, nil
}

// TestActivityLogWithArmmonitor writes through real clients and reads the
// activity log back with armmonitor's ActivityLogsClient.
func TestActivityLogWithArmmonitor(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	cred := s.Credential(t)
	rgs, err := armresources.NewResourceGroupsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := policy.WithHTTPHeader(context.Background(), http.Header{"X-Ms-Correlation-Request-Id": {"al-corr-1"}})
	if _, err := rgs.CreateOrUpdate(ctx, "al-rg", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rgs.Get(context.Background(), "al-rg", nil); err != nil { // a read: not logged
		t.Fatal(err)
	}
	bad := "/subscriptions/" + s.Conn.SubscriptionID + "/resourcegroups/al-rg/providers/Microsoft.MachineLearningServices/workspaces/w?api-version=2024-04-01"
	if code, _, body := s.Do(t, "PUT", bad, `{"location":"westeurope","properties":{"publicNetworkAccess":"Sometimes"}}`,
		map[string]string{"x-ms-correlation-request-id": "al-corr-2"}); code < 400 {
		t.Fatalf("bad workspace PUT = %d %s", code, body)
	}

	al, err := armmonitor.NewActivityLogsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	window := "eventTimestamp ge '" + now.Add(-time.Hour).Format(time.RFC3339) + "' and eventTimestamp le '" + now.Add(time.Hour).Format(time.RFC3339) + "'"
	// The flow record of the last request is stored just after its answer.
	var events []*armmonitor.EventData
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if events, err = alList(t, al, window+" and correlationId eq 'al-corr-2'", nil); err != nil {
			t.Fatal(err)
		}
		if len(events) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(events) != 2 || *events[0].Status.Value != "Failed" || *events[0].Level != armmonitor.EventLevelError ||
		*events[1].Status.Value != "Started" || *events[0].OperationName.Value != "Microsoft.MachineLearningServices/workspaces/write" {
		t.Fatalf("failed write events = %s", alDump(events))
	}

	events, err = alList(t, al, window+" and correlationId eq 'al-corr-1'", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("resource group create events = %s", alDump(events))
	}
	end, begin := events[0], events[1]
	rgID := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/al-rg"
	if *begin.EventName.Value != "BeginRequest" || *begin.Status.Value != "Started" || *end.EventName.Value != "EndRequest" ||
		*end.Status.Value != "Succeeded" || *end.SubStatus.Value != "Created (HTTP Status Code: 201)" ||
		*end.OperationName.Value != "Microsoft.Resources/subscriptions/resourceGroups/write" ||
		*end.Authorization.Action != "Microsoft.Resources/subscriptions/resourceGroups/write" || !strings.EqualFold(*end.Authorization.Scope, rgID) ||
		*end.Caller != s.Conn.ClientID || *end.Claims["appid"] != s.Conn.ClientID ||
		*end.Claims["http://schemas.microsoft.com/identity/claims/tenantid"] != s.Conn.TenantID ||
		*end.Claims["iss"] != "https://sts.windows.net/"+s.Conn.TenantID+"/" ||
		*end.Category.Value != "Administrative" || *end.ResourceGroupName != "al-rg" || *end.SubscriptionID != s.Conn.SubscriptionID ||
		*end.TenantID != s.Conn.TenantID || *end.HTTPRequest.Method != "PUT" || !strings.Contains(*end.HTTPRequest.URI, "/resourcegroups/al-rg") ||
		end.EventTimestamp == nil || end.SubmissionTimestamp == nil || *end.EventDataID == *begin.EventDataID {
		t.Errorf("resource group create events = %s", alDump(events))
	}

	// Filters: the resource group's writes only, no reads; status; $select.
	events, err = alList(t, al, window+" and resourceGroupName eq 'AL-RG'", nil)
	if err != nil || len(events) != 4 {
		t.Errorf("resourceGroupName filter: %v %s", err, alDump(events))
	}
	events, err = alList(t, al, window+" and status eq 'Failed' and resourceProvider eq 'Microsoft.MachineLearningServices'", to.Ptr("status,operationName"))
	if err != nil || len(events) != 1 || events[0].Caller != nil || *events[0].Status.Value != "Failed" {
		t.Errorf("status filter with $select: %v %s", err, alDump(events))
	}
	events, err = alList(t, al, window+" and resourceUri eq '"+rgID+"' and caller eq '"+s.Conn.ClientID+"'", nil)
	if err != nil || len(events) != 2 {
		t.Errorf("resourceUri filter: %v %s", err, alDump(events))
	}

	// A bad filter is a 400 ARM error, not a 5xx.
	_, err = alList(t, al, "eventTimestamp ge '2020-01-01T00:00:00Z'", nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || re.ErrorCode != "BadRequest" {
		t.Errorf("bad filter: %v", err)
	}
}

func alDump(es []*armmonitor.EventData) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString("\n  ")
		if e.EventName != nil {
			b.WriteString(*e.EventName.Value + " ")
		}
		if e.OperationName != nil {
			b.WriteString(*e.OperationName.Value + " ")
		}
		if e.Status != nil {
			b.WriteString(*e.Status.Value + " ")
		}
		if e.ResourceID != nil {
			b.WriteString(*e.ResourceID)
		}
	}
	return b.String()
}
