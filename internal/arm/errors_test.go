package arm

import (
	"net/http"
	"testing"
)

func TestUnknownMember(t *testing.T) {
	tests := []struct {
		parent, name, typeName string
		wantTarget, wantMsg    string
	}{
		{"", "foo", "Subnet", "foo", "Could not find member 'foo' on object of type 'Subnet'. Path 'foo'."},
		{"properties", "foo", "RoleDefinitionProperties", "properties.foo",
			"Could not find member 'foo' on object of type 'RoleDefinitionProperties'. Path 'properties.foo'."},
		{"properties.managedNetwork", "Foo", "ManagedNetworkSettings", "properties.managedNetwork.Foo",
			"Could not find member 'Foo' on object of type 'ManagedNetworkSettings'. Path 'properties.managedNetwork.Foo'."},
	}
	for _, tt := range tests {
		e := UnknownMember(tt.parent, tt.name, tt.typeName)
		if e.Status != http.StatusBadRequest || e.Code != CodeInvalidRequestContent || e.Target != tt.wantTarget || e.Message != tt.wantMsg {
			t.Errorf("UnknownMember(%q, %q, %q) = %d %s %q %q, want 400 %s %q %q", tt.parent, tt.name, tt.typeName,
				e.Status, e.Code, e.Target, e.Message, CodeInvalidRequestContent, tt.wantTarget, tt.wantMsg)
		}
	}
}
