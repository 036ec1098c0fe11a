package workspaceapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/kv"
)

// Key layout, in the data plane's space (kv.SpaceWorkspaceData, "w\0"),
// relative to it:
//
//	{workspaceId}\0e\0{experiment name, lower}     experiment
//	{workspaceId}\0r\0{run id, lower}              run
//	{workspaceId}\0m\0{run id, lower}\0{metric}    metric (name, lower) with its values
//	{workspaceId}\0a\0{origin}\0{container}\0{path}  artifact metadata (origin and container lower, path as sent)
//	{workspaceId}\0c\0{origin}\0{container}\0{path}  artifact content
//	{workspaceId}\0d\0{datastore name, lower}      v1 datastore
//	{workspaceId}\0D                               name of the default v1 datastore
//	{workspaceId}\0M\0{model name, lower}\0{version, 10 digits}  v1 model
const sep = "\x00"

func wsPrefix(wsKey string) []byte { return []byte(wsKey + sep) }

func key(wsKey string, parts ...string) []byte {
	return []byte(wsKey + sep + strings.Join(parts, sep))
}

// prefix is key plus a trailing separator: the keys below it.
func prefix(wsKey string, parts ...string) []byte {
	return append(key(wsKey, parts...), sep...)
}

// getJSON reads the record at k into v; found is false when there is none.
func (s *Service) getJSON(ctx context.Context, k []byte, v any) (found bool, rev int64, err error) {
	ent, err := s.kv.Get(ctx, k)
	if errors.Is(err, kv.ErrNotFound) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	if err := json.Unmarshal(ent.Value, v); err != nil {
		return false, 0, err
	}
	return true, ent.Revision, nil
}

// putJSON writes v at k if k is still at revision rev (0: absent). A
// concurrent writer gets 409, an error wrapping kv.ErrConflict.
func (s *Service) putJSON(ctx context.Context, k []byte, v any, rev int64, extra ...kv.Op) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ops := append([]kv.Op{kv.Put(k, b).If(kv.Cond(rev))}, extra...)
	if _, err := s.kv.Txn(ctx, ops...); err != nil {
		if errors.Is(err, kv.ErrConflict) {
			return arm.Conflict(arm.CodeConflict, "The record was changed by another request; retry.").Wrap(err)
		}
		return err
	}
	return nil
}

// scanJSON decodes every record below p, in key order, calling f for each.
func (s *Service) scanJSON(ctx context.Context, p []byte, f func(k []byte, raw []byte) error) error {
	var after []byte
	for {
		ents, err := s.kv.Scan(ctx, p, after, 200)
		if err != nil {
			return err
		}
		for _, ent := range ents {
			if err := f(ent.Key, ent.Value); err != nil {
				return err
			}
		}
		if len(ents) < 200 {
			return nil
		}
		after = ents[len(ents)-1].Key
	}
}

// deletePrefix removes every key below p, in batches.
func (s *Service) deletePrefix(ctx context.Context, p []byte) error {
	for {
		ents, err := s.kv.Scan(ctx, p, nil, 100)
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			return nil
		}
		ops := make([]kv.Op, 0, len(ents))
		for _, ent := range ents {
			ops = append(ops, kv.Delete(ent.Key))
		}
		if _, err := s.kv.Txn(ctx, ops...); err != nil {
			return err
		}
	}
}

// lastPart is the part of k after its last separator.
func lastPart(k []byte) string {
	if i := bytes.LastIndex(k, []byte(sep)); i >= 0 {
		return string(k[i+1:])
	}
	return string(k)
}

func isNotFound(err error) bool { return errors.Is(err, kv.ErrNotFound) }
