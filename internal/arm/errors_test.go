package arm

import (
	"errors"
	"fmt"
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

// TestWrap checks that a cause is seen through an *Error, and through
// further wrapping, by errors.Is and errors.As, and changes nothing a
// client sees.
func TestWrap(t *testing.T) {
	cause := errors.New("store: condition failed")
	other := errors.New("other")
	wrapped := Conflict(CodeConflict, "The resource '%s' was changed by another request; retry.", "x").Wrap(cause)
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"wrapped", wrapped, cause, true},
		{"wrapped again", fmt.Errorf("saving: %w", wrapped), cause, true},
		{"not the cause", wrapped, other, false},
		{"no cause", Conflict(CodeConflict, "no cause"), cause, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("%s: errors.Is = %v, want %v", tt.name, got, tt.want)
		}
		if ae, ok := AsError(tt.err); !ok || ae.Status != http.StatusConflict {
			t.Errorf("%s: AsError = %v, %v, want the 409", tt.name, ae, ok)
		}
	}
	if got, want := wrapped.Error(), "Conflict: The resource 'x' was changed by another request; retry."; got != want {
		t.Errorf("Error() = %q, want %q (the cause is not part of the message)", got, want)
	}
}
