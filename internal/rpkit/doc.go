// Package rpkit holds what armlet's resource providers share below the
// engine: a schema language that checks request bodies member by member
// (Schema), the managed identities of ARM's common types (Identity),
// generated secrets and the tenant of a subscription.
//
// Providers must not import each other (internal/providers/imports_test.go),
// so a piece of provider logic that more than one of them needs lives here
// rather than being written again in each. rpkit imports the engine and the
// arm packages only, never a provider.
package rpkit
