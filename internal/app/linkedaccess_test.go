package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/e2e"
)

// TestLinkedAccessCheck: a caller who may write workspaces and registries
// in their own resource group cannot link another team's storage account
// (and so read its key through the workspace): the write is refused with
// ARM's 403 LinkedAuthorizationFailed naming the missing action and the
// linked scope, until the caller holds that action on the account. A
// change that keeps a stored link needs no check.
func TestLinkedAccessCheck(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	mine := s.CreateGroup(t, "linked-mine")
	theirs := s.CreateGroup(t, "linked-theirs")
	account := func(name string) string {
		id := theirs + "/providers/Microsoft.Storage/storageAccounts/" + name
		if code, _, body := s.Do(t, "PUT", id+"?api-version=2023-05-01", `{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`, nil); code >= 300 {
			t.Fatalf("create %s: %d %s", name, code, body)
		}
		return id
	}
	theirAccount, otherAccount := account("theirstore"), account("theirother")
	alice, cred := s.NewPrincipal(t, "alice")
	s.Assign(t, mine, "Contributor", alice.ObjectID)
	as := map[string]string{"Authorization": "Bearer " + s.TokenOf(t, cred)}
	ws := mine + "/providers/Microsoft.MachineLearningServices/workspaces/"
	put := func(path, body string) (int, string) {
		code, _, resp := s.Do(t, "PUT", path, body, as)
		return code, resp
	}
	refused := func(what string, code int, body, action, scope string) {
		t.Helper()
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal([]byte(body), &e)
		if code != http.StatusForbidden || e.Error.Code != "LinkedAuthorizationFailed" ||
			!strings.Contains(e.Error.Message, "'"+action+"'") || !strings.Contains(strings.ToLower(e.Error.Message), strings.ToLower(scope)) {
			t.Errorf("%s: %d %s; want 403 LinkedAuthorizationFailed naming %s on %s", what, code, body, action, scope)
		}
	}
	const listKeys = "Microsoft.Storage/storageAccounts/listKeys/action"

	code, body := put(ws+"ws1?api-version=2024-04-01", `{"location":"eastus","properties":{"storageAccount":"`+theirAccount+`"}}`)
	refused("a workspace linking another group's account", code, body, listKeys, theirAccount)

	s.Assign(t, theirs, "Reader", alice.ObjectID)
	code, body = put(ws+"ws1?api-version=2024-04-01", `{"location":"eastus","properties":{"storageAccount":"`+theirAccount+`"}}`)
	refused("the same with Reader on the account's group (no listKeys)", code, body, listKeys, theirAccount)

	s.Assign(t, theirAccount, "Contributor", alice.ObjectID)
	if code, body := put(ws+"ws1?api-version=2024-04-01", `{"location":"eastus","properties":{"storageAccount":"`+theirAccount+`"}}`); code != http.StatusAccepted {
		t.Fatalf("with Contributor on the account: %d %s", code, body)
	}

	// Bob may write the workspace only: a change that keeps its link is his
	// to make, a new link is not.
	bob, bobCred := s.NewPrincipal(t, "bob")
	s.Assign(t, ws+"ws1", "Contributor", bob.ObjectID)
	asBob := map[string]string{"Authorization": "Bearer " + s.TokenOf(t, bobCred)}
	if code, _, body := s.Do(t, "PATCH", ws+"ws1?api-version=2024-04-01", `{"tags":{"team":"bob"}}`, asBob); code != http.StatusOK {
		t.Errorf("bob's PATCH of tags, the link kept: %d %s", code, body)
	}
	if code, _, body := s.Do(t, "PATCH", ws+"ws1?api-version=2024-04-01",
		`{"properties":{"applicationInsights":"`+theirs+`/providers/Microsoft.Insights/components/ai"}}`, asBob); code != http.StatusForbidden || !strings.Contains(body, "LinkedAuthorizationFailed") {
		t.Errorf("bob linking Application Insights he cannot read: %d %s", code, body)
	}

	// A registry's user-created account is a link too.
	reg := mine + "/providers/Microsoft.MachineLearningServices/registries/reg1?api-version=2024-04-01"
	regBody := func(acct string) string {
		return `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus","storageAccountDetails":[{"userCreatedStorageAccount":{"armResourceId":{"resourceId":"` + acct + `"}}}]}]}}`
	}
	code, body = put(reg, regBody(otherAccount))
	refused("a registry on another group's account", code, body, listKeys, otherAccount)
	if code, body := put(reg, regBody(theirAccount)); code >= 300 {
		t.Errorf("a registry on the account alice may list the keys of: %d %s", code, body)
	}
}
