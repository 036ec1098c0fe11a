// Package keyspacetest checks, on a running armlet, the key space declared
// in kv/keyspace.go: everything armlet stores lies in a declared space, and
// a workload that exercises every part of armlet that keeps state writes to
// every space. It has no code of its own, only that test, which starts
// armlet through internal/app and so cannot live in package kv.
package keyspacetest
