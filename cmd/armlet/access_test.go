package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/report"
)

// TestReportAccessCommand runs `armlet report access` against a started
// armlet after one allowed and one refused request.
func TestReportAccessCommand(t *testing.T) {
	a := e2e.Start(t)
	dir, conn := a.DataDir, a.Conn
	getenv := func(k string) string { return map[string]string{"ARMLET_DATA_DIR": dir}[k] }
	ctx := context.Background()
	c, _, err := clientFlags("test", []string{"--data-dir", dir}, getenv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rg := "/subscriptions/" + conn.SubscriptionID + "/resourcegroups/acc-rg"
	if _, err := c.send(ctx, "PUT", rg+"?api-version=2021-04-01", map[string]any{"location": "westeurope"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.send(ctx, "PUT", rg+"/providers/Microsoft.MachineLearningServices/workspaces/w?api-version=2024-04-01",
		map[string]any{"location": "westeurope", "properties": map[string]any{"publicNetworkAccess": "Sometimes"}}); err == nil {
		t.Fatal("a bad workspace PUT succeeded")
	}

	var out bytes.Buffer
	var rep report.AccessReport
	// The admin API stores queued flow records before reading them; the
	// last request's record is queued just after its answer, so poll.
	for i := 0; ; i++ {
		out.Reset()
		if code := run(ctx, []string{"report", "access", "--json", "--principal", conn.ClientID}, getenv, &out, &out); code != 0 {
			t.Fatalf("report access --json = %d %s", code, out.String())
		}
		rep = report.AccessReport{}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("report access --json printed %s (%v)", out.String(), err)
		}
		if len(rep.Principals) == 1 && rep.Principals[0].Requests >= 2 || i == 100 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var outcomes []string
	for _, e := range rep.Principals[0].Entries {
		outcomes = append(outcomes, e.Operation+" "+e.Outcome)
	}
	got := strings.Join(outcomes, "\n")
	if len(rep.Principals) != 1 || rep.Principals[0].AppID != conn.ClientID ||
		!strings.Contains(got, "Microsoft.Resources/subscriptions/resourceGroups/write allowed") ||
		!strings.Contains(got, "Microsoft.MachineLearningServices/workspaces/write failed") {
		t.Fatalf("report access --json = %s", out.String())
	}
	oid := rep.Principals[0].ObjectID

	out.Reset()
	if code := run(ctx, []string{"report", "access", "--since", "1h"}, getenv, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "PRINCIPAL "+oid+` "armlet-bootstrap" (app `+conn.ClientID+")") ||
		!strings.Contains(out.String(), "why: RBAC allowed Microsoft.MachineLearningServices/workspaces/write") {
		t.Errorf("report access = %d %s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"report", "access", "--denied-only", "--principal", oid}, getenv, &out, &out); code != 0 ||
		strings.TrimSpace(out.String()) != "No requests recorded." {
		t.Errorf("report access --denied-only = %d %s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"report", "access", "--principal", "armlet-bootstrap"}, getenv, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "PRINCIPAL "+oid) {
		t.Errorf("report access --principal armlet-bootstrap = %d %s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"report", "access", "--since", "yesterday"}, getenv, &out, &out); code != 1 || !strings.Contains(out.String(), "since") {
		t.Errorf("report access --since yesterday = %d %s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"report", "access", "extra"}, getenv, &out, &out); code != 2 || !strings.Contains(out.String(), "unexpected argument") {
		t.Errorf("report access extra = %d %s", code, out.String())
	}
}
