package workspaceapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// maxMetricsPerBatch bounds the distinct metrics of one batch (each is one
// store write of one transaction).
const maxMetricsPerBatch = 50

// metric is one named metric of a run with every value logged to it (the
// shape promptflow and azureml-mlflow send to /batchsync: name, columns,
// properties, value[{data, step, timestamp}]).
type metric struct {
	RunID      string         `json:"runId"`
	Name       string         `json:"name"`
	Columns    map[string]any `json:"columns"`
	Properties map[string]any `json:"properties"`
	Value      []any          `json:"value"`
}

// postMetrics is POST /runs/{runId}/batchsync (and /batch): it appends
// each metric's values to the run's metric of that name.
//
// Choice: the run must exist in run history (404 otherwise); a batch
// holds at most 50 distinct metric names; each value must be an object
// with a "data" object; columns and properties of a later batch are
// merged into the metric's; the answer is 200 with no body. The whole
// batch is stored or none of it.
func postMetrics(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	body, err := decodeObject(c.Body, false)
	if err != nil {
		return nil, err
	}
	values, ok, err := body.list("values")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("values", "The request body needs 'values', an array of metrics.")
	}
	type batchItem struct {
		name           string
		columns, props object
		value          []any
	}
	var items []batchItem
	names := map[string]int{}
	for i, v := range values {
		path := "values[" + strconv.Itoa(i) + "]"
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, badRequest(path, "Each entry of 'values' must be a JSON object.")
		}
		o := object(m)
		name, ok, err := o.str("name")
		if err != nil {
			return nil, err
		}
		if !ok || name == "" || strings.ContainsRune(name, 0) || len(name) > 255 {
			return nil, badRequest(path+".name", "Each metric needs a 'name' of 1 to 255 characters.")
		}
		cols, _, err := o.obj("columns")
		if err != nil {
			return nil, err
		}
		props, _, err := o.obj("properties")
		if err != nil {
			return nil, err
		}
		vals, _, err := o.list("value")
		if err != nil {
			return nil, err
		}
		for j, pt := range vals {
			pm, isObj := pt.(map[string]any)
			if !isObj {
				return nil, badRequest(path+".value["+strconv.Itoa(j)+"]", "Each metric value must be a JSON object.")
			}
			if _, _, err := object(pm).obj("data"); err != nil {
				return nil, err
			}
		}
		names[strings.ToLower(name)]++
		items = append(items, batchItem{name: name, columns: cols, props: props, value: vals})
	}
	if len(names) > maxMetricsPerBatch {
		return nil, badRequest("values", "A batch may hold at most %d distinct metrics, not %d.", maxMetricsPerBatch, len(names))
	}
	if _, err := s.runOf(ctx, c); err != nil {
		return nil, err
	}
	runKey := strings.ToLower(c.param("run"))
	err = kv.Retry(ctx, func() error {
		pending := map[string]*metric{}
		revs := map[string]int64{}
		for _, it := range items {
			lk := strings.ToLower(it.name)
			m := pending[lk]
			if m == nil {
				m = &metric{}
				found, rev, err := s.getJSON(ctx, key(c.wsKey, "m", runKey, lk), m)
				if err != nil {
					return err
				}
				if !found {
					m = &metric{RunID: c.param("run"), Name: it.name, Columns: map[string]any{}, Properties: map[string]any{}}
				}
				pending[lk], revs[lk] = m, rev
			}
			for k, v := range it.columns {
				m.Columns[k] = v
			}
			for k, v := range it.props {
				m.Properties[k] = v
			}
			m.Value = append(m.Value, it.value...)
		}
		var ops []kv.Op
		for lk, m := range pending {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			ops = append(ops, kv.Put(key(c.wsKey, "m", runKey, lk), b).If(kv.Cond(revs[lk])))
		}
		if len(ops) == 0 {
			return nil
		}
		_, err := s.kv.Txn(ctx, ops...)
		return err
	})
	if errors.Is(err, kv.ErrConflict) {
		return nil, userError(http.StatusConflict, "", "Too many concurrent metric writes to run '%s'; retry.", c.param("run")).Wrap(err)
	}
	if err != nil {
		return nil, err
	}
	return &engine.Response{Status: http.StatusOK}, nil
}

// fullMetrics is GET (or POST) /runs/{runId}/full: every metric of the
// run with all its values, ordered by name.
func fullMetrics(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	if c.Method == http.MethodPost {
		if _, err := decodeObject(c.Body, true); err != nil {
			return nil, err
		}
	}
	if _, err := s.runOf(ctx, c); err != nil {
		return nil, err
	}
	var out []*metric
	err := s.scanJSON(ctx, prefix(c.wsKey, "m", strings.ToLower(c.param("run"))), func(_ []byte, raw []byte) error {
		var m metric
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		if m.Value == nil {
			m.Value = []any{}
		}
		out = append(out, &m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, listBody(out)), nil
}
