package storage

import "context"

// nameTaken is the message for a name another account holds, "" for a
// free one.
func (p *provider) nameTaken(ctx context.Context, name string) (string, error) {
	taken, err := p.nameTakenBy(ctx, name)
	if err != nil || taken == nil {
		return "", err
	}
	return nameTakenMessage(name), nil
}

// nameInvalid is the message for a name Azure's rule refuses, "" for a
// valid one.
func nameInvalid(name string) string {
	if accountName.MatchString(name) {
		return ""
	}
	return name + " is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
}
