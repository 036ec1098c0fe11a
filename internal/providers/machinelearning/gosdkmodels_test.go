package machinelearning

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

// goSDKVersions are the api-versions whose models come from go-azure-sdk
// (gosdkmodels_gen.go).
var goSDKVersions = []string{"2024-04-01", "2024-10-01", "2024-10-01-preview", "2025-06-01", "2025-09-01"}

// shapedType is a type armlet checks per api-version (newShapes): its
// hand-written schema, where to PUT one and a body valid at every
// go-azure-sdk version, extra (a JSON fragment starting with a comma)
// added to its properties.
type shapedType struct {
	typ  string
	base *field
	path func(n int) string // the nth resource of the type
	body func(extra string) string
}

// shapedTypes are the types armlet overlays with the versions' models.
func shapedTypes() []shapedType {
	named := func(prefix string) func(int) string {
		return func(n int) string { return fmt.Sprintf("%s%d", prefix, n) }
	}
	props := func(fixed string) func(string) string {
		return func(extra string) string { return `{"properties":{` + fixed + extra + `}}` }
	}
	located := func(fixed string) func(string) string {
		return func(extra string) string { return `{"location":"eastus","properties":{` + fixed + extra + `}}` }
	}
	out := []shapedType{
		{TypeWorkspaces, workspaceProperties, named(wsBase + "gows"), located(`"storageAccount":"` + storageID + `"`)},
		{TypeComputes, computeSchema, named(epWS + "/computes/c"),
			located(`"computeType":"AmlCompute","properties":{"vmSize":"STANDARD_DS3_V2","scaleSettings":{"maxNodeCount":2,"minNodeCount":0}}`)},
		{TypeDatastores, datastoreProperties, named(epWS + "/datastores/d"),
			props(`"datastoreType":"AzureBlob","accountName":"acct","containerName":"c1","credentials":{"credentialsType":"AccountKey","secrets":{"secretsType":"AccountKey","key":"k"}}`)},
		{TypeWorkspaceConnections, wsConnectionProperties, named(epWS + "/connections/conn"),
			props(`"authType":"PAT","category":"Git","target":"https://github.com/o/r","credentials":{"pat":"p"}`)},
		{TypeJobs, jobBaseProperties, named(epWS + "/jobs/job"),
			props(`"jobType":"Command","command":"python train.py","environmentId":"` + jobsRegEnv + `","resources":{"instanceType":"Standard_DS3_v2","instanceCount":1}`)},
		{TypeSchedules, scheduleProperties, named(epWS + "/schedules/s"), func(extra string) string {
			return scheduleWith(`{"triggerType":"Cron","expression":"0 * * * *"}`, extra)
		}},
		{TypeOnlineEndpoints, onlineEndpointProperties, named(epOnline + "oe"), located(`"authMode":"Key"`)},
		{TypeOnlineDeployments, onlineDeploymentProperties, named(epOnline + "ep1/deployments/od"), epDeploymentBody},
		{TypeBatchEndpoints, batchEndpointProperties, named(epBatch + "be"), located(`"authMode":"AADToken"`)},
		{TypeBatchDeployments, batchDeploymentProperties, named(epBatch + "be1/deployments/bd"),
			located(`"model":{"referenceType":"Id","assetId":"` + epRegModel + `"}`)},
	}
	for _, k := range assetKinds {
		container := props("")
		version := map[string]string{
			"codes": `"codeUri":"https://x/c"`, "environments": `"image":"mcr.microsoft.com/azureml/base:latest"`,
			"components": `"componentSpec":{}`, "models": `"modelUri":"azureml://m"`, "data": `"dataType":"uri_file","dataUri":"https://x/f.csv"`,
		}[k.segment]
		if k.segment == "data" {
			container = props(`"dataType":"uri_file"`)
		}
		out = append(out,
			shapedType{k.containerType(), k.container, named(epWS + "/" + k.segment + "/a"), container},
			shapedType{k.versionType(), k.version, named(epWS + "/" + k.segment + "/a1/versions/"), props(version)})
	}
	return out
}

// shapedEnv is a workspace ws1 with online endpoint ep1 and batch endpoint
// be1, made at the newest version.
func shapedEnv(t *testing.T) *env {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	v.epCreate(epOnline+"ep1", `{"location":"eastus","properties":{"authMode":"Key"}}`)
	v.epCreate(epBatch+"be1", `{"location":"eastus","properties":{"authMode":"AADToken"}}`)
	v.Advance(2 * time.Second)
	return v
}

// sample is a value f takes: each required member of an object, the first
// variant of a union, empty arrays and maps.
func sample(f *field, depth int) any {
	switch f.kind {
	case kString:
		return "x"
	case kEnum:
		return f.enum[0]
	case kArmID:
		return epWS + "/computes/none"
	case kBool:
		return true
	case kInt, kNumber:
		return 1
	case kArray:
		return []any{}
	case kObject:
		m := map[string]any{}
		if depth < 8 {
			for _, name := range f.required {
				m[name] = sample(f.fields[name], depth+1)
			}
		}
		return m
	case kUnion:
		names := make([]string, 0, len(f.variants))
		for n := range f.variants {
			names = append(names, n)
		}
		sort.Strings(names)
		m := sample(f.variants[names[0]], depth).(map[string]any)
		m[f.discriminator] = names[0]
		return m
	}
	return map[string]any{} // kMap, kAny
}

// TestGoSDKMembersPerAPIVersion checks, for each go-azure-sdk version and
// each type it has that armlet overlays, that a PUT sending a member the
// version lacks is refused as at the Python SDK's versions
// (TestMembersPerAPIVersion), and that one sending a member the version
// has and other versions lack is accepted. Members are looked for in the
// properties and the objects below them, by depth then name.
//
// The member the version lacks is, first found: one of the newest shape
// the version does not have ("is not part of api-version V", or "needs
// api-version S or newer" for one newer than it); one only another version
// has (unknown at this one); else one no version has. The member it has is
// the one the most other go-azure-sdk versions lack (2025-09-01's
// managedNetwork.enableFirewallLog, 2024-10-01-preview's
// enableSoftwareBillOfMaterials), if any.
func TestGoSDKMembersPerAPIVersion(t *testing.T) {
	v := shapedEnv(t)
	n := 0
	accepted := map[string]int{}
	for _, st := range shapedTypes() {
		sh := newShapes(st.typ, st.base)
		for _, version := range goSDKVersions {
			if _, has := sdkAPIs[version].resource(st.typ); !has {
				continue
			}
			f, props, ok := shapeAt(sh, st, version)
			if !ok {
				t.Errorf("%s at %s: no overlay", st.typ, version)
				continue
			}
			_, located := seedBody(t, st.body(""))["location"]
			put := func(body map[string]any) error {
				n++
				env := map[string]any{"properties": body}
				if located {
					env["location"] = "eastus"
				}
				b, _ := json.Marshal(env)
				resp, err := v.Serve(http.MethodPut, st.path(n), version, string(b))
				if err == nil && resp.Status >= 300 {
					return fmt.Errorf("status %d", resp.Status)
				}
				return err
			}

			lacked, want := lackedMember(sh, st, f, props, version)
			t.Run(version+" "+st.typ+" refuses "+lacked.target(), func(t *testing.T) {
				ae, ok := arm.AsError(put(lacked.body(props, "x")))
				switch {
				case !ok:
					t.Errorf("accepted, want 400 InvalidRequestContent")
				case ae.Status != 400 || ae.Code != "InvalidRequestContent" || ae.Target != lacked.target() ||
					!strings.HasPrefix(ae.Message, "Could not find member '"+lacked.name()+"'") || !strings.HasSuffix(ae.Message, "'."+want):
					t.Errorf("error %d %s %s (%s), want 400 InvalidRequestContent %s ending %q", ae.Status, ae.Code, ae.Target, ae.Message, lacked.target(), want)
				}
			})

			own := ownMember(sh, st, f, props, version)
			if own == nil {
				t.Logf("%s at %s: has no member other go-azure-sdk versions lack", st.typ, version)
				continue
			}
			accepted[version]++
			t.Run(version+" "+st.typ+" accepts "+own.target(), func(t *testing.T) {
				if err := put(own.body(props, sample(own.member, 0))); err != nil {
					t.Errorf("refused: %v", err)
				}
			})
			v.Advance(2 * time.Second)
		}
	}
	for _, version := range goSDKVersions {
		if accepted[version] == 0 {
			t.Errorf("%s: no type has a member other versions lack", version)
		}
	}
}

// shapeAt is st's properties schema at version, the variant st's body is
// of for a union, with that body's properties; ok is false when armlet has
// no model of st at version.
func shapeAt(sh *shapes, st shapedType, version string) (f *field, props map[string]any, ok bool) {
	var body map[string]any
	_ = json.Unmarshal([]byte(st.body("")), &body)
	props = body["properties"].(map[string]any)
	f, ok = sh.at(version)
	if ok && f.kind == kUnion {
		f = f.variantOf(props)
	}
	return f, props, ok && f != nil
}

// lackedMember is a member st at version lacks and the end of the message
// refusing it (see TestGoSDKMembersPerAPIVersion).
func lackedMember(sh *shapes, st shapedType, f *field, props map[string]any, version string) (*memberPath, string) {
	if ps := members(f, props, func(mf *field) bool { return mf.missingAt(version) }); len(ps) > 0 {
		if mf := ps[0].member; mf.since != "" && !atLeast(version, mf.since) {
			return ps[0], " The property needs api-version " + mf.since + " or newer; the request used " + version + "."
		}
		return ps[0], " The property is not part of api-version " + version + "."
	}
	var others []string
	for ov := range sh.byVersion {
		others = append(others, ov)
	}
	sort.Strings(others)
	for _, ov := range others {
		of, _, ok := shapeAt(sh, st, ov)
		if !ok || ov == version {
			continue
		}
		for _, p := range members(of, props, func(mf *field) bool { return !mf.missingAt(ov) && !mf.readOnly }) {
			if parent := p.lookup(f, 1); parent != nil && parent.kind == kObject && !parent.open {
				if _, _, known := parent.member(p.name()); !known {
					return p, ""
				}
			}
		}
	}
	return &memberPath{steps: []pathStep{{name: "armletNoSuchMember"}}, member: str()}, ""
}

// ownMember is the writable member st at version has that the most other
// go-azure-sdk versions lack (absent, newer or unknown), nil if none.
func ownMember(sh *shapes, st shapedType, f *field, props map[string]any, version string) *memberPath {
	var best *memberPath
	most := 0
	for _, p := range members(f, props, func(mf *field) bool { return !mf.missingAt(version) && !mf.readOnly }) {
		lacking := 0
		for _, ov := range goSDKVersions {
			of, _, ok := shapeAt(sh, st, ov)
			if !ok || ov == version {
				continue
			}
			if mf := p.lookup(of, 0); mf == nil || mf.missingAt(ov) {
				lacking++
			}
		}
		if lacking > most {
			best, most = p, lacking
		}
	}
	return best
}

// memberPath is a member below a type's properties: the members (and, for
// a union, the variant) leading to it.
type memberPath struct {
	steps  []pathStep
	member *field
}

type pathStep struct {
	name    string
	union   *field // the member's union, or nil
	variant string
}

func (p *memberPath) name() string { return p.steps[len(p.steps)-1].name }

func (p *memberPath) target() string {
	names := []string{"properties"}
	for _, s := range p.steps {
		names = append(names, s.name)
	}
	return strings.Join(names, ".")
}

// lookup follows p in another schema f of the same properties, less its
// last skip steps: the member (or object) it reaches, nil if f has none.
func (p *memberPath) lookup(f *field, skip int) *field {
	for _, s := range p.steps[:len(p.steps)-skip] {
		if f.kind != kObject {
			return nil
		}
		_, mf, ok := f.member(s.name)
		if !ok {
			return nil
		}
		if s.union != nil {
			if mf.kind != kUnion {
				return nil
			}
			mf = mf.variantOf(map[string]any{mf.discriminator: s.variant})
			if mf == nil {
				return nil
			}
		}
		f = mf
	}
	return f
}

// body is a copy of props with the member set to value, and each object on
// the way there that props lacks made (a union's with its discriminator).
func (p *memberPath) body(props map[string]any, value any) map[string]any {
	var out map[string]any
	b, _ := json.Marshal(props)
	_ = json.Unmarshal(b, &out)
	cur := out
	for _, s := range p.steps[:len(p.steps)-1] {
		next, ok := cur[s.name].(map[string]any)
		if !ok {
			if s.union != nil {
				next = sample(s.union.variants[s.variant], 0).(map[string]any)
				next[s.union.discriminator] = s.variant
			} else {
				next = map[string]any{}
			}
			cur[s.name] = next
		}
		cur = next
	}
	cur[p.name()] = value
	return out
}

// members are the members, by depth then name, of the object f (body its
// value) and the objects and unions below it for which match holds and
// that body does not hold already. It follows the objects the body holds
// and, of those it does not, the writable ones, and stops three levels
// down.
func members(f *field, body map[string]any, match func(*field) bool) []*memberPath {
	type node struct {
		f     *field
		body  map[string]any
		steps []pathStep
	}
	var out []*memberPath
	queue := []node{{f, body, nil}}
	for len(queue) > 0 {
		nd := queue[0]
		queue = queue[1:]
		names := make([]string, 0, len(nd.f.fields))
		for name := range nd.f.fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			mf := nd.f.fields[name]
			if _, sent := nd.body[name]; !sent && match(mf) {
				out = append(out, &memberPath{steps: append(slices.Clone(nd.steps), pathStep{name: name}), member: mf})
			}
		}
		if len(nd.steps) == 3 {
			continue
		}
		for _, name := range names {
			mf := nd.f.fields[name]
			if mf.readOnly || mf.absent || mf.versionOnly {
				continue
			}
			sub, _ := nd.body[name].(map[string]any)
			switch mf.kind {
			case kObject:
				queue = append(queue, node{mf, sub, append(slices.Clone(nd.steps), pathStep{name: name})})
			case kUnion:
				if sub != nil {
					if vf := mf.variantOf(sub); vf != nil {
						_, dv, _ := lookupFold(sub, mf.discriminator)
						vn, _ := dv.(string)
						queue = append(queue, node{vf, sub, append(slices.Clone(nd.steps), pathStep{name: name, union: mf, variant: vn})})
					}
					continue
				}
				variants := make([]string, 0, len(mf.variants))
				for vn := range mf.variants {
					variants = append(variants, vn)
				}
				sort.Strings(variants)
				for _, vn := range variants {
					queue = append(queue, node{mf.variants[vn], map[string]any{mf.discriminator: vn},
						append(slices.Clone(nd.steps), pathStep{name: name, union: mf, variant: vn})})
				}
			}
		}
	}
	return out
}

// TestGoSDKNewerMember checks a member go-azure-sdk's 2025-09-01 models add
// (ManagedNetworkSettings.enableFirewallLog, which 2025-06-01 lacks): refused
// at 2024-04-01, accepted and shown at 2025-09-01.
func TestGoSDKNewerMember(t *testing.T) {
	for _, v := range []string{"2024-04-01", "2025-06-01"} {
		if slices.ContainsFunc(sdkAPIs[v].models["ManagedNetworkSettings"].members, func(m sdkMember) bool { return m.name == "enableFirewallLog" }) {
			t.Fatalf("%s's ManagedNetworkSettings has enableFirewallLog", v)
		}
	}
	if !slices.ContainsFunc(sdkAPIs["2025-09-01"].models["ManagedNetworkSettings"].members, func(m sdkMember) bool { return m.name == "enableFirewallLog" }) {
		t.Fatal("2025-09-01's ManagedNetworkSettings lacks enableFirewallLog")
	}
	v := newEnv(t, Options{}, nil)
	body := `{"location":"eastus","properties":{"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","enableFirewallLog":true}}}`
	ae := v.Fail(http.MethodPut, wsBase+"ws1", "2024-04-01", body, 400, "InvalidRequestContent")
	if ae.Target != "properties.managedNetwork.enableFirewallLog" || !strings.Contains(ae.Message, "2024-04-01") {
		t.Errorf("at 2024-04-01: target %q, message %q", ae.Target, ae.Message)
	}
	v.createWorkspace("ws1", "2025-09-01", body)
	mn, _ := v.props("ws1", "2025-09-01")["managedNetwork"].(map[string]any)
	if mn["enableFirewallLog"] != true {
		t.Errorf("at 2025-09-01: managedNetwork = %v", mn)
	}
	mn, _ = v.props("ws1", "2024-04-01")["managedNetwork"].(map[string]any)
	if _, ok := mn["enableFirewallLog"]; ok {
		t.Errorf("at 2024-04-01: managedNetwork = %v, shows enableFirewallLog", mn)
	}
}

// TestGoSDKPreviewWorkspace checks that the workspace at 2024-10-01-preview,
// a preview armlet has go-azure-sdk's models of, is served without
// lenient api-versions, checked against that version's members.
func TestGoSDKPreviewWorkspace(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	rt, ok := v.e.Registry().Lookup(TypeWorkspaces)
	if !ok || !slices.Contains(rt.APIVersions, "2024-10-01-preview") {
		t.Fatalf("workspaces do not accept 2024-10-01-preview")
	}
	v.createWorkspace("ws1", "2024-10-01-preview", baseBody)
	if p := v.props("ws1", "2024-10-01-preview"); p["storageAccount"] != storageID {
		t.Errorf("properties = %v", p)
	}
	// A member of the preview's WorkspaceProperties that 2024-10-01's lacks.
	body := `{"location":"eastus","properties":{"enableSoftwareBillOfMaterials":true}}`
	v.createWorkspace("ws2", "2024-10-01-preview", body)
	if ae := v.Fail(http.MethodPut, wsBase+"ws3", "2024-10-01", body, 400, "InvalidRequestContent"); ae.Target != "properties.enableSoftwareBillOfMaterials" {
		t.Errorf("at 2024-10-01: target %q (%s)", ae.Target, ae.Message)
	}
	// A member 2025-09-01 adds, which the preview lacks.
	ae := v.Fail(http.MethodPut, wsBase+"ws4", "2024-10-01-preview",
		`{"location":"eastus","properties":{"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","enableFirewallLog":true}}}`, 400, "InvalidRequestContent")
	if ae.Target != "properties.managedNetwork.enableFirewallLog" {
		t.Errorf("enableFirewallLog at the preview: target %q (%s)", ae.Target, ae.Message)
	}
}

// TestGoSDKModelsGenerated checks that gen/gosdkmodels reproduces
// gosdkmodels_gen.go byte for byte from the go-azure-sdk modules in the
// module cache (skipped when they are absent, but in CI, where .ci/run
// downloads them).
func TestGoSDKModelsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command(goTool, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	cache := strings.TrimSpace(string(out))
	for _, dir := range []string{
		"github.com/hashicorp/go-azure-sdk/resource-manager@v0.20260811.1225050/machinelearningservices",
		"github.com/hashicorp/go-azure-sdk/resource-manager@v0.20250131.1134653/machinelearningservices",
	} {
		if _, err := os.Stat(filepath.Join(cache, dir)); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not in the module cache; in CI .ci/run downloads it: %v", dir, err)
			}
			t.Skipf("%s is not in the module cache (go generate downloads it): %v", dir, err)
		}
	}
	target := filepath.Join(t.TempDir(), "gosdkmodels_gen.go")
	cmd := exec.Command(goTool, "run", "./gen/gosdkmodels", "-o", target, "-modcache", cache)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen/gosdkmodels: %v\n%s", err, b)
	}
	got, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("gosdkmodels_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("gen/gosdkmodels writes %d bytes that differ from gosdkmodels_gen.go's %d: run go generate", len(got), len(want))
	}
}
