package engine

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// TestEncodeResource holds encodeResource to encoding/json's encoding of
// the record, which decodeResource reads and earlier armlets stored.
func TestEncodeResource(t *testing.T) {
	id, err := resourceid.Parse("/subscriptions/s/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/ws<1>")
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 12, 6, 10, 11, 12, 130000000, time.UTC)
	east := time.FixedZone("east", 5*3600+1800)
	tests := []struct {
		name string
		r    Resource
	}{
		{"empty", Resource{ID: id, Type: "T"}},
		{"full", Resource{
			ID: id, Type: "Microsoft.MachineLearningServices/workspaces", Location: "East US", Kind: "Default",
			Tags:       map[string]string{"b": "<x>", "a": "1"},
			Properties: map[string]any{"description": "d & e", "n": json.Number("5"), "f": 1.5, "list": []any{"a", nil, true}, "obj": map[string]any{"z": 1.0, "\u2028": "x"}},
			Extra:      map[string]json.RawMessage{"sku": json.RawMessage(`{"name":"Basic"}`), "identity": json.RawMessage(` { "type" : "SystemAssigned" } `)},
			SystemData: SystemData{CreatedBy: "me", CreatedByType: "User", CreatedAt: when, LastModifiedBy: "app", LastModifiedByType: "Application", LastModifiedAt: when.In(east)},
			Internal: Internal{CreatedAPIVersion: "2024-04-01", Provisioning: &Transition{State: "Creating", Until: when.Add(time.Second)},
				DeleteAt: when.Add(time.Hour), Data: map[string]json.RawMessage{"keys": json.RawMessage(`{"k":"v"}`), "flag": json.RawMessage(`true`)}},
		}},
		{"some system data", Resource{ID: id, Type: "T", SystemData: SystemData{LastModifiedAt: when}, Internal: Internal{Provisioning: &Transition{State: "Updating"}}}},
		{"empty maps", Resource{ID: id, Type: "T", Tags: map[string]string{}, Properties: map[string]any{}, Extra: map[string]json.RawMessage{}, Internal: Internal{Data: map[string]json.RawMessage{}}}},
		{"a time RFC 3339 cannot hold", Resource{ID: id, Type: "T", SystemData: SystemData{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := json.Marshal(recordOf(&tt.r))
			var got []byte
			panicked := func() (p any) {
				defer func() { p = recover() }()
				got = encodeResource(&tt.r)
				return nil
			}()
			if wantErr != nil {
				if panicked == nil {
					t.Fatalf("encoded %s where encoding/json fails: %v", got, wantErr)
				}
				return
			}
			if panicked != nil {
				t.Fatalf("panicked: %v", panicked)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("\n got %s\nwant %s", got, want)
			}
			back, err := decodeResource(got, 7)
			if err != nil {
				t.Fatal(err)
			}
			if again := encodeResource(back); !bytes.Equal(again, got) {
				t.Errorf("decoded and encoded again:\n got %s\nwant %s", again, got)
			}
		})
	}
}
