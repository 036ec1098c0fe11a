package machinelearning

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// TestLegacyModeOnCreate covers rules L1 and L2: the default depends on
// the api-version of the create, and old api-versions do not show the
// property.
func TestLegacyModeOnCreate(t *testing.T) {
	tests := []struct {
		name       string
		apiVersion string
		body       string
		want       bool
	}{
		{"2021-07-01 is older than the property", "2021-07-01", `{"location":"eastus"}`, true},
		{"2018-11-19 is older than the property", "2018-11-19", `{"location":"eastus"}`, true},
		{"2022-05-01 without the property", "2022-05-01", `{"location":"eastus"}`, false},
		{"2024-04-01 without the property", "2024-04-01", `{"location":"eastus"}`, false},
		{"2024-04-01 with true", "2024-04-01", `{"location":"eastus","properties":{"v1LegacyMode":true}}`, true},
		{"2025-09-01 with false", "2025-09-01", `{"location":"eastus","properties":{"v1LegacyMode":false}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			v.createWorkspace("ws1", tt.apiVersion, tt.body)
			if got := storedLegacyMode(v.resource(wsBase + "ws1")); got != tt.want {
				t.Errorf("stored v1LegacyMode = %v, want %v", got, tt.want)
			}
			p := v.props("ws1", tt.apiVersion)
			_, shown := p["v1LegacyMode"]
			if wantShown := atLeast(tt.apiVersion, LegacyModeAPIVersion); shown != wantShown {
				t.Errorf("GET at %s shows v1LegacyMode: %v, want %v", tt.apiVersion, shown, wantShown)
			}
			if got := v.props("ws1", newest)["v1LegacyMode"]; got != tt.want {
				t.Errorf("GET at %s: v1LegacyMode = %v, want %v", newest, got, tt.want)
			}
			if eff, _ := EffectiveLegacyMode(v.resource(wsBase+"ws1"), v.clk.Now()); eff != tt.want {
				t.Errorf("effective = %v, want %v", eff, tt.want)
			}
		})
	}
}

// TestLegacyModeUnknownAtOldVersion checks that an api-version older than
// 2022-05-01 cannot send the property.
func TestLegacyModeUnknownAtOldVersion(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	ae := v.Fail(http.MethodPut, wsBase+"ws1", "2021-07-01", `{"location":"eastus","properties":{"v1LegacyMode":false}}`, 400, "InvalidRequestContent")
	if ae.Target != "properties.v1LegacyMode" {
		t.Errorf("target = %q", ae.Target)
	}
}

// TestLegacyModePropagation covers rule L4 with a fixed 45 minute delay.
func TestLegacyModePropagation(t *testing.T) {
	const delay = 45 * time.Minute
	v := newEnv(t, Options{LegacyModePropagation: Propagation{Min: delay, Max: delay}}, nil)
	v.createWorkspace("ws1", "2021-07-01", `{"location":"eastus"}`) // true by L2

	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":false}}`, http.StatusOK)
	changedAt := v.Now
	if got := v.props("ws1", newest)["v1LegacyMode"]; got != false {
		t.Fatalf("GET right after the change: v1LegacyMode = %v, want false", got)
	}
	d := v.describe("ws1")
	if d["v1LegacyMode"] != false || d["effectiveV1LegacyMode"] != true {
		t.Fatalf("describe right after the change = %v, want stored false, effective true", d)
	}
	at, err := time.Parse(time.RFC3339Nano, d["v1LegacyModePropagatesAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !at.Equal(changedAt.Add(delay)) {
		t.Errorf("propagates at %v, want %v", at, changedAt.Add(delay))
	}

	v.Advance(44 * time.Minute)
	if d := v.describe("ws1"); d["effectiveV1LegacyMode"] != true {
		t.Errorf("after 44m: describe = %v, want effective true", d)
	}
	// An update that does not touch v1LegacyMode keeps the pending change.
	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"description":"x"}}`, http.StatusOK)
	if eff, until := EffectiveLegacyMode(v.resource(wsBase+"ws1"), v.clk.Now()); !eff || !until.Equal(at) {
		t.Errorf("after an unrelated PATCH: effective %v until %v, want true until %v", eff, until, at)
	}
	v.Advance(2 * time.Minute)
	d = v.describe("ws1")
	if d["effectiveV1LegacyMode"] != false || d["v1LegacyModePropagatesAt"] != nil {
		t.Errorf("after 46m: describe = %v, want effective false and no pending change", d)
	}

	// false -> true applies at once.
	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":true}}`, http.StatusOK)
	if eff, until := EffectiveLegacyMode(v.resource(wsBase+"ws1"), v.clk.Now()); !eff || !until.IsZero() {
		t.Errorf("after false->true: effective %v until %v, want true with nothing pending", eff, until)
	}
}

// TestLegacyModeNewerChangeReplacesPending: true->false, then false->true
// while pending, then true->false again: the second delay counts from the
// last change.
func TestLegacyModeNewerChangeReplacesPending(t *testing.T) {
	const delay = 45 * time.Minute
	v := newEnv(t, Options{LegacyModePropagation: Propagation{Min: delay, Max: delay}}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"v1LegacyMode":true}}`)

	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":false}}`, http.StatusOK)
	first := v.Now
	v.Advance(10 * time.Minute)
	// Back to true while the first change is pending: applies at once.
	v.Must(http.MethodPut, wsBase+"ws1", newest, `{"location":"eastus","properties":{"v1LegacyMode":true}}`, http.StatusAccepted)
	if eff, until := EffectiveLegacyMode(v.resource(wsBase+"ws1"), v.clk.Now()); !eff || !until.IsZero() {
		t.Fatalf("after false->true: effective %v until %v", eff, until)
	}
	v.Advance(time.Minute)
	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":false}}`, http.StatusOK)
	second := v.Now

	v.Advance(first.Add(delay + time.Minute).Sub(v.clk.Now()))
	if eff, until := EffectiveLegacyMode(v.resource(wsBase+"ws1"), v.clk.Now()); !eff || !until.Equal(second.Add(delay)) {
		t.Errorf("after the first change's delay: effective %v until %v, want true until %v", eff, until, second.Add(delay))
	}
	v.Advance(second.Add(delay).Sub(v.clk.Now()) + time.Second)
	if eff, _ := EffectiveLegacyMode(v.resource(wsBase+"ws1"), v.clk.Now()); eff {
		t.Errorf("after the second change's delay: still effective")
	}
}

// TestLegacyModeOmittedKeepsValue: a PUT without v1LegacyMode keeps the
// stored value, at a new api-version and at an old one.
func TestLegacyModeOmittedKeepsValue(t *testing.T) {
	for _, apiVersion := range []string{newest, "2021-07-01"} {
		t.Run(apiVersion, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"v1LegacyMode":true}}`)
			v.Must(http.MethodPut, wsBase+"ws1", apiVersion, `{"location":"eastus","properties":{"description":"d"}}`, http.StatusAccepted)
			if got := v.props("ws1", newest)["v1LegacyMode"]; got != true {
				t.Errorf("v1LegacyMode = %v, want true kept", got)
			}
		})
	}
}

// TestLegacyModeZeroPropagation: with no delay a change to false is
// effective at once.
func TestLegacyModeZeroPropagation(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", "2021-07-01", `{"location":"eastus"}`)
	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":false}}`, http.StatusOK)
	if d := v.describe("ws1"); d["effectiveV1LegacyMode"] != false || d["v1LegacyModePropagatesAt"] != nil {
		t.Errorf("describe = %v, want effective false at once", d)
	}
}

// TestLegacyModeDelayDeterministic: under the same seed two runs draw the
// same delays, each within [Min, Max].
func TestLegacyModeDelayDeterministic(t *testing.T) {
	prop := DefaultLegacyModePropagation
	run := func() []time.Duration {
		v := newEnv(t, Options{LegacyModePropagation: prop}, rand.New(rand.NewPCG(1, 2)))
		v.createWorkspace("ws1", "2021-07-01", `{"location":"eastus"}`)
		var out []time.Duration
		for range 3 {
			v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":false}}`, http.StatusOK)
			_, until := EffectiveLegacyMode(v.resource(wsBase+"ws1"), v.clk.Now())
			out = append(out, until.Sub(v.Now))
			v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":true}}`, http.StatusOK)
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("delay %d: %v then %v under the same seed", i, a[i], b[i])
		}
		if a[i] < prop.Min || a[i] > prop.Max {
			t.Errorf("delay %d = %v, outside [%v, %v]", i, a[i], prop.Min, prop.Max)
		}
	}
	if a[0] == a[1] && a[1] == a[2] {
		t.Errorf("three draws gave the same delay %v", a[0])
	}
}

func TestPropagationDraw(t *testing.T) {
	tests := []struct {
		p    Propagation
		r    float64
		want time.Duration
	}{
		{Propagation{}, 0.5, 0},
		{Propagation{Min: time.Minute, Max: time.Minute}, 0.9, time.Minute},
		{Propagation{Min: 30 * time.Minute, Max: 60 * time.Minute}, 0.5, 45 * time.Minute},
		{Propagation{Min: 10 * time.Minute, Max: time.Minute}, 0.5, 10 * time.Minute},
		{Propagation{Min: -time.Minute, Max: 0}, 0.5, 0},
	}
	for _, tt := range tests {
		if got := tt.p.draw(func() float64 { return tt.r }); got != tt.want {
			t.Errorf("%+v.draw(%v) = %v, want %v", tt.p, tt.r, got, tt.want)
		}
	}
}

// TestLegacyModeUnknownAtOldPreviewAnyCasing: a preview api-version older
// than 2022-05-01 (accepted in lenient mode) cannot change v1LegacyMode,
// however the member is spelled.
func TestLegacyModeUnknownAtOldPreviewAnyCasing(t *testing.T) {
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry(), LenientAPIVersions: true})
	Register(e, Options{TenantID: testTenant})
	if err := e.EnsureSubscription(context.Background(), testSub, testTenant, "test"); err != nil {
		t.Fatal(err)
	}
	v := &env{Env: enginetest.New(t, e, clk), t: t, e: e, clk: clk}
	v.Must(http.MethodPut, rgPath, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	v.Must(http.MethodPut, wsBase+"ws1", "2024-04-01", `{"location":"eastus","properties":{"v1LegacyMode":true}}`, http.StatusAccepted)
	for _, name := range []string{"v1LegacyMode", "V1LegacyMode", "V1LEGACYMODE"} {
		for _, method := range []string{http.MethodPatch, http.MethodPut} {
			ae := v.Fail(method, wsBase+"ws1", "2022-01-01-preview", `{"location":"eastus","properties":{"`+name+`":false}}`, 400, "InvalidRequestContent")
			if !strings.EqualFold(ae.Target, "properties.v1LegacyMode") {
				t.Errorf("%s %s: target = %q", method, name, ae.Target)
			}
		}
	}
}
