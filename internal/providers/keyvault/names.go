package keyvault

import "context"

// nameTaken is the message for a name a live or deleted vault holds in
// any subscription, "" for a free one.
func (p *provider) nameTaken(ctx context.Context, name string) (string, error) {
	h, err := p.nameHeld(ctx, name)
	if err != nil || (h.vault == nil && h.deleted == nil) {
		return "", err
	}
	return vaultInUse(name), nil
}

// nameInvalid is the message for a name Azure's rule refuses, "" for a
// valid one.
func nameInvalid(name string) string {
	if validVaultName(name) {
		return ""
	}
	return "The name '" + name + "' is invalid. " + vaultNameRule
}
