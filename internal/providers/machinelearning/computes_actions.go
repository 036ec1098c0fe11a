package machinelearning

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// Operations on a ComputeInstance (OperationName).
const (
	opCreate  = "Create"
	opStart   = "Start"
	opStop    = "Stop"
	opRestart = "Restart"
)

// instanceState is a ComputeInstance's last operation: Op started at
// Start and finishes at Until.
type instanceState struct {
	Op    string    `json:"op"`
	Start time.Time `json:"start"`
	Until time.Time `json:"until"`
}

// transientState is the state shown while an operation runs.
var transientState = map[string]string{
	opCreate: "Creating", opStart: "Starting", opStop: "Stopping", opRestart: "Restarting",
}

// state is the ComputeInstanceState at now.
func (st instanceState) state(now time.Time) string {
	switch {
	case st.Op == "":
		return "Running"
	case now.Before(st.Until):
		return transientState[st.Op]
	case st.Op == opStop:
		return "Stopped"
	}
	return "Running"
}

// powerRules says, per action, the state an instance must be in.
var powerRules = map[string]struct{ op, from, verb string }{
	"start":   {opStart, "Stopped", "started"},
	"stop":    {opStop, "Running", "stopped"},
	"restart": {opRestart, "Running", "restarted"},
}

// nodePageSize is the number of nodes per listNodes page.
const nodePageSize = 10

// Action answers the compute POST actions (names compare ignoring case):
//
//   - start, stop, restart: ComputeInstance only; 202 with Location (and
//     Retry-After); polling gives 202 until the step ends (one operation
//     duration), then 204. The instance shows Starting, Stopping or
//     Restarting meanwhile, then Running or Stopped.
//   - listKeys: 200 with the ComputeSecrets union: AKS {adminKubeConfig,
//     userKubeConfig, imagePullSecretName}, VirtualMachine
//     {administratorAccount}, Databricks {databricksAccessToken}; other
//     types {computeType} only.
//   - listNodes: 200 {nodes, nextLink}, pages of nodePageSize; the
//     nextLink is a GET (served by ListChildren), as the Go SDK follows it.
//
// Choice: start, stop and restart of other compute types get 400
// UserError. An action the instance's state does not allow gets 409
// Conflict naming the state: start needs Stopped, stop and restart need
// Running (so stopping a Stopped instance, or any action while Creating,
// Starting, Stopping or Restarting, is refused).
//
// Choice: listNodes lists, for an AmlCompute, one node per node counted
// by nodeStateCounts (idle, preparing while growing, leaving while
// shrinking), with private addresses 10.0.x.y, public ones when
// enableNodePublicIp, and SSH ports from 50000; for a ComputeInstance, one
// idle node while Running and none otherwise; other types get 400
// UserError.
func (s *computeStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	switch lname := strings.ToLower(name); lname {
	case "start", "stop", "restart":
		return s.power(ctx, req, r, lname)
	case "listkeys":
		return engine.JSON(http.StatusOK, computeSecrets(r)), nil
	case "listnodes":
		return listNodes(req, r)
	}
	return nil, engine.UnknownAction(TypeComputes, name)
}

// ListChildren serves GET {compute}/listNodes, the nextLink of listNodes.
func (s *computeStrategy) ListChildren(_ context.Context, req *engine.Request, r *engine.Resource, child string) (*engine.Response, bool, error) {
	if !strings.EqualFold(child, "listNodes") {
		return nil, false, nil
	}
	resp, err := listNodes(req, r)
	return resp, true, err
}

func computeTypeOf(r *engine.Resource) string {
	ct, _ := r.Properties["computeType"].(string)
	return ct
}

// power starts, stops or restarts a ComputeInstance.
func (s *computeStrategy) power(ctx context.Context, req *engine.Request, r *engine.Resource, action string) (*engine.Response, error) {
	if ct := computeTypeOf(r); ct != computeInstance {
		return nil, arm.BadRequest(arm.CodeUserError,
			"The action '%s' is supported only for a ComputeInstance; compute '%s' is a %s.", action, r.ID.Name(), ct)
	}
	if r.Deleting(req.Now) {
		return nil, arm.Conflict(arm.CodeConflict, "Compute instance '%s' is being deleted.", r.ID.Name())
	}
	rule := powerRules[action]
	var st instanceState
	r.GetData(dataInstance, &st)
	if cur := st.state(req.Now); cur != rule.from {
		return nil, arm.Conflict(arm.CodeConflict,
			"Compute instance '%s' is %s: it can be %s only when it is %s.", r.ID.Name(), cur, rule.verb, rule.from)
	}
	st = instanceState{Op: rule.op, Start: req.Now, Until: req.Now.Add(s.e.OperationDuration())}
	r.SetData(dataInstance, st)
	if err := s.e.Save(ctx, r); err != nil {
		return nil, err
	}
	return s.e.NewActionOperation(ctx, req, r, nil, st.Until)
}

// computeSecrets is the listKeys body.
func computeSecrets(r *engine.Resource) map[string]any {
	ct := computeTypeOf(r)
	out := map[string]any{"computeType": ct}
	inner, _ := r.Properties["properties"].(map[string]any)
	switch ct {
	case computeAKS:
		var token string
		r.GetData(dataKubeToken, &token)
		fqdn, _ := inner["clusterFqdn"].(string)
		if fqdn == "" {
			fqdn = fmt.Sprintf("%s-%08x.hcp.%s.azmk8s.io", strings.ToLower(r.ID.Name()), nameHash(r.ID.String()), r.Location)
		}
		out["adminKubeConfig"] = kubeConfig(r.ID.Name(), fqdn, "clusterAdmin_"+r.ID.Name(), token)
		out["userKubeConfig"] = kubeConfig(r.ID.Name(), fqdn, "clusterUser_"+r.ID.Name(), token)
		out["imagePullSecretName"] = "azureml-" + strings.ToLower(r.ID.Name()) + "-acr-secret"
	case computeVirtualMachine:
		if acct, ok := inner["administratorAccount"]; ok {
			out["administratorAccount"] = acct
		}
	case computeDatabricks:
		if tok, ok := inner["databricksAccessToken"]; ok {
			out["databricksAccessToken"] = tok
		}
	}
	return out
}

// dataKubeToken is an AKS compute's kubeconfig token, made at creation.
const dataKubeToken = "kubeToken"

func kubeConfig(cluster, fqdn, user, token string) string {
	return "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://" + fqdn + ":443\n  name: " + cluster +
		"\ncontexts:\n- context:\n    cluster: " + cluster + "\n    user: " + user + "\n  name: " + cluster +
		"\ncurrent-context: " + cluster + "\nusers:\n- name: " + user + "\n  user:\n    token: " + token + "\n"
}

// listNodes answers listNodes (POST) and its nextLink (GET).
func listNodes(req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	nodes, err := computeNodes(r, req.Now)
	if err != nil {
		return nil, err
	}
	skip := 0
	if tok := req.QueryValue("$skipToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return nil, arm.BadRequest("InvalidSkipToken", "The value of query parameter '$skipToken' is invalid.")
		}
		skip = n
	}
	lo, hi := min(skip, len(nodes)), min(skip+nodePageSize, len(nodes))
	body := map[string]any{"nodes": nodes[lo:hi]}
	if hi < len(nodes) {
		q := url.Values{"api-version": {req.APIVersion}, "$skipToken": {strconv.Itoa(hi)}}
		body["nextLink"] = req.BaseURL + r.ID.String() + "/listNodes?" + q.Encode()
	}
	return engine.JSON(http.StatusOK, body), nil
}

// computeNodes lists the nodes of an AmlCompute or ComputeInstance at now.
func computeNodes(r *engine.Resource, now time.Time) ([]any, error) {
	inner, _ := r.Properties["properties"].(map[string]any)
	public, _ := inner["enableNodePublicIp"].(bool)
	h := nameHash(r.ID.String())
	node := func(i int, state string) map[string]any {
		n := map[string]any{
			"nodeId":           fmt.Sprintf("tvm-%d_%d-%s", h, i+1, r.SystemData.CreatedAt.UTC().Format("20060102t150405z")),
			"nodeState":        state,
			"port":             50000 + i,
			"privateIpAddress": fmt.Sprintf("10.0.%d.%d", i/250, 4+i%250),
			// The run on the node: none, since armlet runs no jobs.
			"runId": nil,
		}
		if public {
			n["publicIpAddress"] = fmt.Sprintf("20.%d.%d.%d", 40+h%20, h/20%256, 1+h/5120%254)
		}
		return n
	}
	out := []any{}
	switch ct := computeTypeOf(r); ct {
	case computeAmlCompute:
		var st scaleState
		r.GetData(dataScale, &st)
		idle, extra, extraState := st.Target, 0, ""
		if now.Before(st.Until) {
			idle = min(st.From, st.Target)
			if st.Target > st.From {
				extra, extraState = st.Target-st.From, "preparing"
			} else {
				extra, extraState = st.From-st.Target, "leaving"
			}
		}
		for i := range idle {
			out = append(out, node(i, "idle"))
		}
		for i := range extra {
			out = append(out, node(idle+i, extraState))
		}
	case computeInstance:
		var st instanceState
		r.GetData(dataInstance, &st)
		if st.state(now) == "Running" {
			n := node(0, "idle")
			n["port"] = 50000
			out = append(out, n)
		}
	default:
		return nil, arm.BadRequest(arm.CodeUserError,
			"listNodes is supported only for AmlCompute and ComputeInstance; compute '%s' is a %s.", r.ID.Name(), ct)
	}
	return out, nil
}
