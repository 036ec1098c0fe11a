package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// normalize turns decoded JSON into the plain forms the evaluator uses:
// json.Number becomes float64, maps and slices are walked.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out
	}
	return v
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	}
	return 0, false
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, json.Number, int:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// getKey reads an object member, ignoring case as ARM does.
func getKey(obj map[string]any, key string) any {
	if v, ok := obj[key]; ok {
		return v
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func hasKey(obj map[string]any, key string) bool {
	for k := range obj {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// equalValues compares as the policy language does: strings ignoring
// case, numbers by value, booleans also against "true"/"false", arrays
// and objects member by member.
func equalValues(a, b any) bool {
	a, b = normalize(a), normalize(b)
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		switch y := b.(type) {
		case string:
			return strings.EqualFold(x, y)
		case bool, float64:
			return strings.EqualFold(x, toString(y))
		}
		return false
	case bool:
		switch y := b.(type) {
		case bool:
			return x == y
		case string:
			return strings.EqualFold(toString(x), y)
		}
		return false
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case string:
			return toString(x) == y
		}
		return false
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !hasKey(y, k) || !equalValues(v, getKey(y, k)) {
				return false
			}
		}
		return true
	}
	return false
}

// containsValue is the contains operator: a substring of a string
// (ignoring case) or a member of an array.
func containsValue(container, v any) bool {
	switch c := normalize(container).(type) {
	case string:
		return strings.Contains(strings.ToLower(c), strings.ToLower(toString(v)))
	case []any:
		for _, e := range c {
			if equalValues(e, v) {
				return true
			}
		}
	case map[string]any:
		return hasKey(c, toString(v))
	}
	return false
}

// compareValues orders a against b: numbers by value, strings ignoring
// case (so api-versions and ISO dates order as expected). ok is false when
// they cannot be ordered.
func compareValues(a, b any) (int, bool) {
	a, b = normalize(a), normalize(b)
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		if !ok {
			f, err := strconv.ParseFloat(toString(b), 64)
			if err != nil {
				return 0, false
			}
			y = f
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	x, ok := a.(string)
	if !ok {
		return 0, false
	}
	if y, ok := b.(float64); ok {
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, false
		}
		return compareValues(f, y)
	}
	y, ok := b.(string)
	if !ok {
		return 0, false
	}
	return strings.Compare(strings.ToLower(x), strings.ToLower(y)), true
}

// likeMatch is the like operator: one "*" wildcard at most in Azure;
// armlet accepts any number. Case is ignored.
func likeMatch(s, pattern string) bool {
	re := "(?is)^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	ok, _ := regexp.MatchString(re, s)
	return ok
}

// matchPattern is the match operator: "#" a digit, "?" a letter, "." any
// character, anything else itself.
func matchPattern(s, pattern string, insensitive bool) bool {
	rs, rp := []rune(s), []rune(pattern)
	if len(rs) != len(rp) {
		return false
	}
	for i, p := range rp {
		c := rs[i]
		switch p {
		case '#':
			if c < '0' || c > '9' {
				return false
			}
		case '?':
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		case '.':
		default:
			if insensitive {
				if !strings.EqualFold(string(c), string(p)) {
					return false
				}
			} else if c != p {
				return false
			}
		}
	}
	return true
}
