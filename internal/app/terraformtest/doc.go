// Package terraformtest drives OpenTofu with the hashicorp/azurerm provider
// against armlet. It has no code of its own, only those tests, kept out of
// internal/app so that their minutes of real provider polling run beside
// that package's tests, with a test timeout of their own.
package terraformtest
