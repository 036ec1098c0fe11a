package machinelearning

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// TypeComputes is the compute resource type of a workspace.
const TypeComputes = TypeWorkspaces + "/computes"

// registerComputes adds Microsoft.MachineLearningServices/workspaces/computes.
// Computes predate the v2 API: they accept every api-version of the
// namespace, and rule L5 does not gate them (gate.go).
func registerComputes(e *engine.Engine, opts Options) {
	e.Registry().Register(&engine.Type{
		Name:        TypeComputes,
		APIVersions: apiVersionsOf(TypeComputes, APIVersions),
		NamePattern: v2NamePattern,
		NameRule:    v2NameRule,
		Put:         engine.AsyncOperation,
		Delete:      engine.AsyncOperation,
		Strategy:    &computeStrategy{e: e, opts: opts, shapes: newShapes(TypeComputes, computeSchema)},
	})
}

// computeStrategy is the behaviour of workspaces/computes (ComputeResource:
// location, tags, sku, identity and the Compute union on
// properties.computeType).
//
// PUT is an Azure-AsyncOperation long-running operation (201 or 200 with
// provisioningState Creating or Updating); DELETE answers 202 with
// Azure-AsyncOperation and Location and needs the query parameter
// underlyingResourceAction (Delete or Detach); PATCH (ClusterUpdateParameters,
// {"properties":{"properties":{"scaleSettings":{...}}}}) changes only the
// scale settings of an AmlCompute and answers 200.
//
// Generated read-only properties: createdOn, modifiedOn, isAttachedCompute
// (true for Kubernetes, VirtualMachine, HDInsight, DataFactory, Databricks,
// DataLakeAnalytics, SynapseSpark, and AKS that names a resourceId),
// provisioningErrors (null); for AmlCompute allocationState,
// allocationStateTransitionTime, currentNodeCount, targetNodeCount and
// nodeStateCounts; for ComputeInstance state, lastOperation, createdBy,
// applications, connectivityEndpoints, sshSettings.adminUserName and
// sshPort, osImageMetadata.
//
// Choice: location defaults to the workspace's; computeLocation defaults
// to location. Attached types other than DataFactory need
// properties.resourceId (a resource ID of the attached type; armlet does
// not check that the resource exists); DataFactory does not, as Azure's
// example Data Factory compute shows.
//
// Choice: AmlCompute defaults are vmSize STANDARD_DS3_V2, vmPriority
// Dedicated, osType Linux, enableNodePublicIp true, isolatedNetwork false,
// scaleSettings {maxNodeCount 4, minNodeCount 0,
// nodeIdleTimeBeforeScaleDown PT120S} (those of az ml), and
// remoteLoginPortPublicAccess NotSpecified becomes Disabled with a subnet,
// Enabled without. minNodeCount must be at least 0 and maxNodeCount at
// least 1 and at least minNodeCount (400 UserError naming the member).
//
// Choice: armlet runs no jobs, so an AmlCompute settles at minNodeCount:
// after a create or a scale change it is Resizing for one operation
// duration (currentNodeCount the old count; nodeStateCounts shows the
// nodes being added as preparing, or those going as leaving), then Steady
// with currentNodeCount = targetNodeCount = minNodeCount, all nodes idle.
//
// Choice: ComputeInstance defaults are applicationSharingPolicy Shared,
// computeInstanceAuthorizationType personal, enableNodePublicIp true,
// sshSettings.sshPublicAccess Disabled (adminUserName azureuser, sshPort
// 50000). Its state is Creating, then Running, each step lasting one
// operation duration; see computes_actions.go for start, stop and restart.
//
// Choice: computeType cannot change on update: 400
// PropertyChangeNotAllowed naming properties.computeType.
//
// Choice: secrets are stored but not shown by GET (userAccountCredentials.
// adminUserPassword, administratorAccount.password and privateKeyData,
// sslConfiguration.key, databricksAccessToken, Kubernetes connection
// strings); a PUT that omits one keeps the stored value, so GET-modify-PUT
// round trips keep working. listKeys shows them.
type computeStrategy struct {
	e      *engine.Engine
	opts   Options
	shapes *shapes
}

var (
	_ engine.Strategy        = (*computeStrategy)(nil)
	_ engine.Renderer        = (*computeStrategy)(nil)
	_ engine.DeleteValidator = (*computeStrategy)(nil)
	_ engine.Actioner        = (*computeStrategy)(nil)
	_ engine.ChildLister     = (*computeStrategy)(nil)
	_ engine.Exporter        = (*computeStrategy)(nil)
)

// Keys of the strategy's state in Resource.Internal.Data.
const (
	dataScale    = "scale"    // scaleState (AmlCompute)
	dataInstance = "instance" // instanceState (ComputeInstance)
)

// scaleState is an AmlCompute's last resize: from From nodes at Since to
// Target nodes at Until.
type scaleState struct {
	From   int       `json:"from"`
	Target int       `json:"target"`
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
}

// Validate checks a PUT or PATCH of a compute and completes it.
func (s *computeStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := checkComputeEnvelope(desired); err != nil {
		return err
	}
	if req.Method == http.MethodPatch {
		if err := checkComputePatch(req.Body, old); err != nil {
			return err
		}
	}
	if len(desired.Properties) == 0 {
		return arm.InvalidContent("properties", "Required property 'properties' not found in JSON. Path ''.")
	}
	// A seed or export file says when the compute was made: read before
	// the check drops the read-only properties.
	stamps := map[string]any{"createdOn": desired.Properties["createdOn"], "modifiedOn": desired.Properties["modifiedOn"]}
	if err := checkProperties(req, desired, old, s.shapes, "Compute"); err != nil {
		return err
	}
	p := desired.Properties
	ct := canonicalComputeType(p["computeType"].(string))
	p["computeType"] = ct
	if old != nil {
		if oct, _ := old.Properties["computeType"].(string); oct != ct {
			return arm.BadRequest(arm.CodePropertyChangeNotAllow,
				"Changing property 'properties.computeType' of compute '%s' from '%s' to '%s' is not allowed; delete the compute and create it again.",
				desired.ID.Name(), oct, ct).WithTarget("properties.computeType")
		}
	}
	ws, err := workspaceOf(ctx, s.e, desired)
	if err != nil {
		return err
	}
	if desired.Location == "" {
		desired.Location = ws.Location
	}
	if _, ok := p["computeLocation"]; !ok {
		p["computeLocation"] = desired.Location
	}
	inner, _ := p["properties"].(map[string]any)
	if inner == nil {
		inner = map[string]any{}
	}
	if old != nil {
		keepSecrets(ct, inner, old)
	}
	switch ct {
	case computeAmlCompute:
		if err := completeAmlCompute(req, desired, inner, old, s.e.OperationDuration()); err != nil {
			return err
		}
	case computeInstance:
		completeComputeInstance(req, desired, inner, old, s.e.OperationDuration())
	case computeAKS:
		var token string
		if !desired.GetData(dataKubeToken, &token) {
			desired.SetData(dataKubeToken, randomKey(32))
		}
	}
	if len(inner) > 0 || ct == computeAmlCompute || ct == computeInstance {
		p["properties"] = inner
	}
	attached := attachedTypes[ct]
	if ct == computeAKS {
		_, attached = p["resourceId"]
	}
	p["isAttachedCompute"] = attached
	created, modified := req.Now, req.Now
	if old != nil {
		created = stampOf(old.Properties, "createdOn", created)
	}
	if req.Importing() {
		created, modified = stampOf(stamps, "createdOn", created), stampOf(stamps, "modifiedOn", modified)
	}
	p["createdOn"] = created.UTC().Format(time.RFC3339Nano)
	p["modifiedOn"] = modified.UTC().Format(time.RFC3339Nano)
	completeIdentity(desired, s.tenantID(ctx, ws))
	return nil
}

// stampOf reads the time props[name] holds, or def.
func stampOf(props map[string]any, name string, def time.Time) time.Time {
	if c, ok := props[name].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, c); err == nil {
			return t
		}
	}
	return def
}

func canonicalComputeType(s string) string {
	for name := range computeSchema.variants {
		if strings.EqualFold(name, s) {
			return name
		}
	}
	return s
}

// checkComputeEnvelope refuses top-level members ComputeResource does not
// have and checks sku and identity.
func checkComputeEnvelope(r *engine.Resource) error {
	if r.Kind != "" {
		return arm.InvalidContent("kind", "Could not find member 'kind' on object of type 'ComputeResource'. Path 'kind'.")
	}
	return checkSkuAndIdentity(r, "ComputeResource")
}

// checkComputePatch accepts only ClusterUpdateParameters,
// {"properties":{"properties":{"scaleSettings":{...}}}}, for an AmlCompute.
func checkComputePatch(body []byte, old *engine.Resource) error {
	v, err := decode(body)
	if err != nil {
		return arm.InvalidContent("", "The request content was invalid and could not be deserialized: %v.", err)
	}
	levels := []struct{ member, typeName string }{
		{"properties", "ClusterUpdateParameters"},
		{"properties", "ClusterUpdateProperties"},
		{"scaleSettings", "ScaleSettingsInformation"},
	}
	path := ""
	for _, l := range levels {
		m, ok := v.(map[string]any)
		if !ok {
			return conversion(path, v, l.typeName)
		}
		var next any
		for k, mv := range m {
			if !strings.EqualFold(k, l.member) {
				p := joinPath(path, k)
				return arm.InvalidContent(p, "Could not find member '%s' on object of type '%s'. Path '%s'.", k, l.typeName, p)
			}
			next = mv
		}
		if next == nil {
			return arm.InvalidContent(joinPath(path, l.member), "Required property '%s' not found in JSON. Path '%s'.", l.member, path)
		}
		path, v = joinPath(path, l.member), next
	}
	if ct, _ := old.Properties["computeType"].(string); ct != computeAmlCompute {
		return arm.BadRequest(arm.CodeUserError,
			"Compute '%s' is a %s: only the scale settings of an AmlCompute can be updated with PATCH; use PUT for other changes.",
			old.ID.Name(), ct).WithTarget("properties.properties.scaleSettings")
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// keepSecrets copies into inner the secrets of old that inner lacks (GET
// does not show them, so a GET-modify-PUT omits them).
func keepSecrets(ct string, inner map[string]any, old *engine.Resource) {
	oldInner, _ := old.Properties["properties"].(map[string]any)
	for _, path := range computeSecretPaths[ct] {
		ov, ok := lookupPath(oldInner, path)
		if !ok {
			continue
		}
		if _, has := lookupPath(inner, path); has {
			continue
		}
		parent := inner
		for _, seg := range path[:len(path)-1] {
			next, _ := parent[seg].(map[string]any)
			if next == nil {
				next = map[string]any{}
				parent[seg] = next
			}
			parent = next
		}
		parent[path[len(path)-1]] = ov
	}
}

func lookupPath(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, seg := range path {
		cm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = cm[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func deletePath(m map[string]any, path []string) {
	for _, seg := range path[:len(path)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, path[len(path)-1])
}

// setDefault sets m[k] to v unless present.
func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func intOf(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}

// completeAmlCompute applies AmlCompute defaults, checks the scale
// settings and records a resize when minNodeCount changes.
func completeAmlCompute(req *engine.Request, desired *engine.Resource, inner map[string]any, old *engine.Resource, step time.Duration) error {
	setDefault(inner, "vmSize", "STANDARD_DS3_V2")
	setDefault(inner, "vmPriority", "Dedicated")
	setDefault(inner, "osType", "Linux")
	setDefault(inner, "enableNodePublicIp", true)
	setDefault(inner, "isolatedNetwork", false)
	if rl, _ := inner["remoteLoginPortPublicAccess"].(string); rl == "" || rl == "NotSpecified" {
		if _, subnet := inner["subnet"]; subnet {
			inner["remoteLoginPortPublicAccess"] = "Disabled"
		} else {
			inner["remoteLoginPortPublicAccess"] = "Enabled"
		}
	}
	ss, _ := inner["scaleSettings"].(map[string]any)
	if ss == nil {
		ss = map[string]any{"maxNodeCount": json.Number("4")}
		inner["scaleSettings"] = ss
	}
	setDefault(ss, "minNodeCount", json.Number("0"))
	setDefault(ss, "nodeIdleTimeBeforeScaleDown", "PT120S")
	lo, hi := intOf(ss["minNodeCount"]), intOf(ss["maxNodeCount"])
	const target = "properties.properties.scaleSettings"
	switch {
	case lo < 0:
		return arm.BadRequest(arm.CodeUserError, "scaleSettings.minNodeCount must be 0 or more, not %d.", lo).WithTarget(target + ".minNodeCount")
	case hi < 1:
		return arm.BadRequest(arm.CodeUserError, "scaleSettings.maxNodeCount must be 1 or more, not %d.", hi).WithTarget(target + ".maxNodeCount")
	case hi < lo:
		return arm.BadRequest(arm.CodeUserError, "scaleSettings.maxNodeCount (%d) must not be less than minNodeCount (%d).", hi, lo).WithTarget(target + ".maxNodeCount")
	}
	if idle, _ := ss["nodeIdleTimeBeforeScaleDown"].(string); !validISODuration(idle) {
		return arm.BadRequest(arm.CodeUserError, "scaleSettings.nodeIdleTimeBeforeScaleDown '%s' is not an ISO 8601 duration such as 'PT120S'.", idle).
			WithTarget(target + ".nodeIdleTimeBeforeScaleDown")
	}
	var st scaleState
	if old == nil || !old.GetData(dataScale, &st) {
		st = scaleState{From: 0, Target: 0, Since: req.Now, Until: req.Now}
	}
	if current := st.current(req.Now); old == nil || lo != st.Target {
		st = scaleState{From: current, Target: lo, Since: req.Now, Until: req.Now}
		if lo != current {
			st.Until = req.Now.Add(step)
		}
	}
	desired.SetData(dataScale, st)
	return nil
}

func (st scaleState) current(now time.Time) int {
	if now.Before(st.Until) {
		return st.From
	}
	return st.Target
}

// validISODuration accepts ISO 8601 durations of days and time
// (P1D, PT5M, PT120S, P1DT2H).
func validISODuration(s string) bool {
	if len(s) < 3 || (s[0] != 'P' && s[0] != 'p') {
		return false
	}
	inTime, digits, any := false, false, false
	for _, c := range strings.ToUpper(s[1:]) {
		switch {
		case c >= '0' && c <= '9' || c == '.':
			digits = true
		case c == 'T' && !inTime && !digits:
			inTime = true
		case strings.ContainsRune("YMWD", c) && !inTime && digits, strings.ContainsRune("HMS", c) && inTime && digits:
			digits, any = false, true
		default:
			return false
		}
	}
	return any && !digits
}

// completeComputeInstance applies ComputeInstance defaults and, on
// create, starts the instance's Creating step.
func completeComputeInstance(req *engine.Request, desired *engine.Resource, inner map[string]any, old *engine.Resource, step time.Duration) {
	setDefault(inner, "vmSize", "STANDARD_DS3_V2")
	setDefault(inner, "applicationSharingPolicy", "Shared")
	setDefault(inner, "computeInstanceAuthorizationType", "personal")
	setDefault(inner, "enableNodePublicIp", true)
	ssh, _ := inner["sshSettings"].(map[string]any)
	if ssh == nil {
		ssh = map[string]any{}
		inner["sshSettings"] = ssh
	}
	setDefault(ssh, "sshPublicAccess", "Disabled")
	ssh["adminUserName"] = "azureuser"
	ssh["sshPort"] = json.Number("50000")
	if old != nil {
		if oi, _ := old.Properties["properties"].(map[string]any); oi != nil && oi["createdBy"] != nil {
			inner["createdBy"] = oi["createdBy"]
		}
		return
	}
	userName := req.Caller.Name
	if userName == "" {
		userName = req.Caller.AppID
	}
	inner["createdBy"] = map[string]any{
		"userId": req.Caller.ObjectID, "userName": userName, "userOrgId": req.Caller.TenantID,
	}
	desired.SetData(dataInstance, instanceState{Op: opCreate, Start: req.Now, Until: req.Now.Add(step)})
}

// tenantID is Options.TenantID, else the tenant of the workspace's
// subscription, else the workspace's tenantId.
func (s *computeStrategy) tenantID(_ context.Context, ws *engine.Resource) string {
	if s.opts.TenantID != "" {
		return s.opts.TenantID
	}
	t, _ := ws.Properties["tenantId"].(string)
	return t
}

// ExportBody puts the secrets Render hides back, where a PUT gives them.
func (s *computeStrategy) ExportBody(r *engine.Resource, body map[string]any) {
	p, _ := body["properties"].(map[string]any)
	ct, _ := p["computeType"].(string)
	if inner, _ := p["properties"].(map[string]any); inner != nil {
		keepSecrets(ct, inner, r)
	}
}

// Render adds the time-driven read-only properties and hides secrets.
func (s *computeStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, apiVersion string, now time.Time) error {
	defer s.shapes.render(body, apiVersion)
	p, _ := body["properties"].(map[string]any)
	if p == nil {
		return nil
	}
	if _, ok := p["provisioningErrors"]; !ok {
		p["provisioningErrors"] = nil
	}
	ct, _ := p["computeType"].(string)
	inner, _ := p["properties"].(map[string]any)
	if inner == nil {
		return nil
	}
	for _, path := range computeSecretPaths[ct] {
		deletePath(inner, path)
	}
	switch ct {
	case computeAmlCompute:
		var st scaleState
		r.GetData(dataScale, &st)
		renderScale(inner, st, now)
	case computeInstance:
		var st instanceState
		r.GetData(dataInstance, &st)
		renderInstance(r, inner, st, now)
	}
	return nil
}

// renderScale shows an AmlCompute's allocation at now.
func renderScale(inner map[string]any, st scaleState, now time.Time) {
	idle, preparing, leaving := st.Target, 0, 0
	state, since := "Steady", st.Until
	if now.Before(st.Until) {
		state, since = "Resizing", st.Since
		idle = min(st.From, st.Target)
		preparing = max(st.Target-st.From, 0)
		leaving = max(st.From-st.Target, 0)
	}
	inner["allocationState"] = state
	inner["allocationStateTransitionTime"] = since.UTC().Format(time.RFC3339Nano)
	inner["currentNodeCount"] = st.current(now)
	inner["targetNodeCount"] = st.Target
	inner["nodeStateCounts"] = map[string]any{
		"idleNodeCount": idle, "runningNodeCount": 0, "preparingNodeCount": preparing,
		"unusableNodeCount": 0, "leavingNodeCount": leaving, "preemptedNodeCount": 0,
	}
	inner["errors"] = nil
}

// nameHash is a stable number derived from a resource name, for addresses
// and node ids.
func nameHash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(s)))
	return h.Sum32()
}

// renderInstance shows a ComputeInstance's state, endpoints and last
// operation at now.
func renderInstance(r *engine.Resource, inner map[string]any, st instanceState, now time.Time) {
	state := st.state(now)
	inner["state"] = state
	if st.Op != "" {
		status := "Succeeded"
		if now.Before(st.Until) {
			status = "InProgress"
		}
		inner["lastOperation"] = map[string]any{
			"operationName":    st.Op,
			"operationTime":    st.Start.UTC().Format(time.RFC3339Nano),
			"operationStatus":  status,
			"operationTrigger": "User",
		}
	}
	name, loc := r.ID.Name(), r.Location
	h := nameHash(r.ID.String())
	endpoints := map[string]any{"privateIpAddress": fmt.Sprintf("10.0.%d.%d", h%250, 4+h/250%250)}
	if pub, _ := inner["enableNodePublicIp"].(bool); pub {
		endpoints["publicIpAddress"] = fmt.Sprintf("20.%d.%d.%d", 40+h%20, h/20%256, 1+h/5120%254)
	}
	inner["connectivityEndpoints"] = endpoints
	base := "https://" + name + "." + loc + ".instances.azureml.ms"
	inner["applications"] = []any{
		map[string]any{"displayName": "Jupyter", "endpointUri": base + "/tree/"},
		map[string]any{"displayName": "Jupyter Lab", "endpointUri": base + "/lab"},
		map[string]any{"displayName": "VS Code", "endpointUri": "vscode://vscode.azure.vscode-azure-ml-remote/open?endpoint=" + name + "." + loc + ".instances.azureml.ms"},
	}
	inner["osImageMetadata"] = map[string]any{
		"currentImageVersion": "24.08.16", "latestImageVersion": "24.08.16", "isLatestOsImageVersion": true,
	}
	inner["errors"] = nil
}

// ValidateDelete requires underlyingResourceAction.
//
// Choice: a missing or unknown underlyingResourceAction gets 400
// UserError naming the parameter; Detach is refused (400 UserError) for
// AmlCompute and ComputeInstance, which armlet treats as provisioned by
// the workspace (isAttachedCompute false); Delete of an attached compute
// removes it from the workspace (armlet does not model the underlying
// resource).
func (s *computeStrategy) ValidateDelete(_ context.Context, req *engine.Request, r *engine.Resource) error {
	action := req.QueryValue("underlyingResourceAction")
	switch {
	case action == "":
		return arm.BadRequest(arm.CodeUserError,
			"The query parameter 'underlyingResourceAction' is required: 'Delete' deletes the underlying compute, 'Detach' detaches it from the workspace.").
			WithTarget("underlyingResourceAction")
	case strings.EqualFold(action, "Delete"):
		return nil
	case strings.EqualFold(action, "Detach"):
		if attached, _ := r.Properties["isAttachedCompute"].(bool); !attached {
			ct, _ := r.Properties["computeType"].(string)
			return arm.BadRequest(arm.CodeUserError,
				"Compute '%s' (%s) was created by the workspace and cannot be detached; use underlyingResourceAction=Delete.", r.ID.Name(), ct).
				WithTarget("underlyingResourceAction")
		}
		return nil
	}
	return arm.BadRequest(arm.CodeUserError,
		"The value '%s' of query parameter 'underlyingResourceAction' is invalid; the allowed values are 'Delete' and 'Detach'.", action).
		WithTarget("underlyingResourceAction")
}
