package resourceid

import (
	"errors"
	"strings"
	"testing"
)

const ws = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/w1"

func TestParsePath(t *testing.T) {
	tests := []struct {
		path     string
		wantID   string
		wantTail string
		wantType string // ResourceType of the ID, or ChildType of the tail
		wantErr  bool
	}{
		{path: "/", wantID: "/"},
		{path: "/subscriptions", wantID: "/", wantTail: "subscriptions", wantType: "Microsoft.Resources/subscriptions"},
		{path: "/subscriptions/s1", wantID: "/subscriptions/s1", wantType: "Microsoft.Resources/subscriptions"},
		{path: "/subscriptions/s1/", wantID: "/subscriptions/s1", wantType: "Microsoft.Resources/subscriptions"},
		{path: "/subscriptions/s1/resourcegroups", wantID: "/subscriptions/s1", wantTail: "resourcegroups", wantType: "Microsoft.Resources/resourcegroups"},
		{path: "/subscriptions/s1/resourceGroups/rg1", wantID: "/subscriptions/s1/resourceGroups/rg1", wantType: "Microsoft.Resources/resourceGroups"},
		{path: "/subscriptions/s1/providers", wantID: "/subscriptions/s1", wantTail: "providers"},
		{path: "/subscriptions/s1/providers/Microsoft.Network", wantID: "/subscriptions/s1/providers/Microsoft.Network", wantType: "Microsoft.Resources/providers"},
		{path: "/subscriptions/s1/providers/Microsoft.Network/register", wantID: "/subscriptions/s1", wantTail: "Microsoft.Network/register"},
		{path: "/subscriptions/s1/providers/Microsoft.MachineLearningServices/workspaces", wantID: "/subscriptions/s1", wantTail: "Microsoft.MachineLearningServices/workspaces", wantType: "Microsoft.MachineLearningServices/workspaces"},
		{path: ws, wantID: ws, wantType: "Microsoft.MachineLearningServices/workspaces"},
		{path: ws + "/computes", wantID: ws, wantTail: "computes", wantType: "Microsoft.MachineLearningServices/workspaces/computes"},
		{path: ws + "/computes/c1", wantID: ws + "/computes/c1", wantType: "Microsoft.MachineLearningServices/workspaces/computes"},
		{path: ws + "/listKeys", wantID: ws, wantTail: "listKeys"},
		{path: ws + "/onlineEndpoints/e/deployments/d", wantID: ws + "/onlineEndpoints/e/deployments/d", wantType: "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"},
		{path: ws + "/providers/Microsoft.Authorization/roleAssignments/r1", wantID: ws + "/providers/Microsoft.Authorization/roleAssignments/r1", wantType: "Microsoft.Authorization/roleAssignments"},
		{path: "/providers/Microsoft.Management/managementGroups/g/providers/Microsoft.Authorization/privateLinkAssociations/a", wantID: "/providers/Microsoft.Management/managementGroups/g/providers/Microsoft.Authorization/privateLinkAssociations/a", wantType: "Microsoft.Authorization/privateLinkAssociations"},
		// A resource may be named "providers": only type positions are keywords.
		{path: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.X/things/providers/children/c", wantID: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.X/things/providers/children/c", wantType: "Microsoft.X/things/children"},
		{path: "/subscriptions/s1/resourceGroups/my%20rg", wantID: "/subscriptions/s1/resourceGroups/my rg"},
		{path: "/subscriptions/s1/resourceGroups/a%2Fb", wantErr: true},
		{path: "/subscriptions//resourceGroups", wantErr: true},
		{path: "/subscriptions/s1/resourceGroups/..", wantErr: true},
		{path: "/subscriptions/s1/resourceGroups/.", wantErr: true},
		{path: "/subscriptions/s1/resourceGroups/%zz", wantErr: true},
		{path: "/subscriptions/s1/resourceGroups/a%00b", wantErr: true},
		{path: "subscriptions/s1", wantErr: true},
		// The Azure CLI's -g/-n/--resource-type form: one empty segment after
		// the namespace is dropped, as ARM does, and nowhere else.
		{path: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices//workspaces/w1", wantID: ws, wantType: "Microsoft.MachineLearningServices/workspaces"},
		{path: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices//workspaces", wantID: "/subscriptions/s1/resourceGroups/rg1", wantTail: "Microsoft.MachineLearningServices/workspaces"},
		{path: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices///workspaces/ws1", wantErr: true},
		{path: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces//ws1", wantErr: true},
		{path: "/subscriptions/s1/resourceGroups/rg1/providers//Microsoft.MachineLearningServices/workspaces/ws1", wantErr: true},
		{path: "/subscriptions/s1/resourceGroups//providers/Microsoft.MachineLearningServices/workspaces/ws1", wantErr: true},
		{path: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices//", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := ParsePath(tt.path)
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrInvalid) {
					t.Fatalf("ParsePath(%q) error = %v, want ErrInvalid", tt.path, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tt.path, err)
			}
			if got := p.ID.String(); got != tt.wantID {
				t.Errorf("ID = %q, want %q", got, tt.wantID)
			}
			if p.Tail != tt.wantTail {
				t.Errorf("Tail = %q, want %q", p.Tail, tt.wantTail)
			}
			if tt.wantType != "" {
				got := p.ID.ResourceType()
				if p.Tail != "" {
					got = p.ID.ChildType(p.Tail)
				}
				if got != tt.wantType {
					t.Errorf("type = %q, want %q", got, tt.wantType)
				}
			}
		})
	}
}

func TestIDAccessors(t *testing.T) {
	id, err := Parse(ws + "/computes/c1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id.SubscriptionID(), "s1"; got != want {
		t.Errorf("SubscriptionID = %q, want %q", got, want)
	}
	if got, want := id.ResourceGroupName(), "rg1"; got != want {
		t.Errorf("ResourceGroupName = %q, want %q", got, want)
	}
	if got, want := id.Name(), "c1"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
	if got, want := id.Namespace(), "Microsoft.MachineLearningServices"; got != want {
		t.Errorf("Namespace = %q, want %q", got, want)
	}
	if got, want := id.Parent().String(), ws; got != want {
		t.Errorf("Parent = %q, want %q", got, want)
	}
	if id.IsTopLevel() || !id.Parent().IsTopLevel() {
		t.Errorf("IsTopLevel wrong for %s / parent", id)
	}
	upper, _ := Parse(strings.ToUpper(ws))
	if !upper.Equal(id.Parent()) {
		t.Errorf("Equal should ignore case: %s vs %s", upper, id.Parent())
	}
	if upper.Key() != id.Parent().Key() {
		t.Errorf("Key differs by case: %q vs %q", upper.Key(), id.Parent().Key())
	}
	if !upper.Contains(id) || id.Contains(upper) {
		t.Errorf("Contains wrong")
	}
	if got := upper.WithCasing(id).String(); got != ws {
		t.Errorf("WithCasing = %q, want %q", got, ws)
	}
	if _, err := Parse(ws + "/computes"); err == nil {
		t.Errorf("Parse of a collection path should fail")
	}
	if !Root.IsRoot() || Root.String() != "/" || Root.Parent().String() != "/" {
		t.Errorf("root misbehaves")
	}
	if got := ResourceGroup("s", "rg").String(); got != "/subscriptions/s/resourceGroups/rg" {
		t.Errorf("ResourceGroup = %q", got)
	}
}

// FuzzParsePath checks that parsing never panics and that whatever parses
// formats back to a path that parses to the same ID.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", ws, ws + "/computes", ws + "/providers/Microsoft.Authorization/roleAssignments/x",
		"/subscriptions/s/providers/Microsoft.Network/register", "/providers/a/b/c/providers/d/e/f", "//", "/a/%2F", "/a/%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, err := ParsePath(path)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		again, err := Parse(p.ID.String())
		if err != nil {
			t.Fatalf("formatted ID %q of %q does not parse: %v", p.ID, path, err)
		}
		if !again.Equal(p.ID) || again.String() != p.ID.String() {
			t.Fatalf("round trip changed %q to %q", p.ID, again)
		}
		_ = p.ID.ResourceType()
		_ = p.ID.Key()
	})
}

// TestStringKeptThroughDerivations: every way of making an ID renders as
// rendering its segments afresh would (the rendering is made once and
// kept, and a parent's is cut from its child's).
func TestStringKeptThroughDerivations(t *testing.T) {
	id, err := Parse("/subscriptions/S/resourceGroups/RG/providers/Microsoft.ML/workspaces/W/computes/C")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePath("/Subscriptions/s/resourcegroups/rg/Providers/microsoft.ml/Workspaces/w/jobs")
	if err != nil {
		t.Fatal(err)
	}
	ids := []ID{id, p.ID, Root, Subscription("s"), id.Child("runs", "r1"), id.WithLast(Segment{"Computes", "c2"}),
		id.WithCasing(p.ID), New(Segment{"Microsoft.Authorization/roleDefinitions", "x"}), id.Prefix(0), id.Prefix(3), id.Prefix(9)}
	if id.Prefix(3).Len() != 3 || !id.Prefix(3).Equal(id.Parent()) || !id.Prefix(0).IsRoot() || id.Prefix(9).Len() != id.Len() ||
		id.Segment(3) != (Segment{"computes", "C"}) {
		t.Errorf("Prefix or Segment: %v %v %v %v", id.Prefix(3), id.Prefix(0), id.Prefix(9), id.Segment(3))
	}
	for x := id; !x.IsRoot(); x = x.Parent() {
		ids = append(ids, x, x.Parent())
	}
	for _, x := range ids {
		want := "/"
		if !x.IsRoot() {
			want = render(x.segs)
		}
		if x.String() != want {
			t.Errorf("String() = %q, rendering the segments gives %q", x.String(), want)
		}
	}
}
