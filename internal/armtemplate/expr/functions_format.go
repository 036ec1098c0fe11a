package expr

import (
	"strconv"
	"strings"
)

// format is .NET's composite formatting as format() uses it:
// "{index[,alignment][:formatString]}", with "{{" and "}}" for braces.
// Numbers take the standard formats N, D, F and X (with a precision);
// other values print as string() does.
func format(c *Call) (any, error) {
	f, err := c.String(0)
	if err != nil {
		return nil, err
	}
	args := c.args()[1:]
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		ch := f[i]
		switch {
		case ch == '{' && i+1 < len(f) && f[i+1] == '{', ch == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte(ch)
			i++
			continue
		case ch == '}':
			return nil, c.Errorf("the format string has an unmatched '}' at position %d.", i)
		case ch != '{':
			b.WriteByte(ch)
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, c.Errorf("the format string has an unmatched '{' at position %d.", i)
		}
		item, err := formatItem(c, f[i+1:i+end], args)
		if err != nil {
			return nil, err
		}
		b.WriteString(item)
		if b.Len() > MaxStringLength {
			return nil, c.Errorf("the result would be longer than %d characters.", MaxStringLength)
		}
		i += end
	}
	return c.result(b.String())
}

func formatItem(c *Call, spec string, args []any) (string, error) {
	idx, rest, _ := strings.Cut(spec, ":")
	fmtStr := ""
	if strings.Contains(spec, ":") {
		fmtStr = rest
	}
	idx, align, hasAlign := strings.Cut(idx, ",")
	n, err := strconv.Atoi(strings.TrimSpace(idx))
	if err != nil || n < 0 || n >= len(args) {
		return "", c.Errorf("the format item '{%s}' does not name one of the %d argument(s).", spec, len(args))
	}
	s, err := formatValue(c, args[n], fmtStr)
	if err != nil {
		return "", err
	}
	if hasAlign {
		w, err := strconv.Atoi(strings.TrimSpace(align))
		if err != nil || w > MaxPadLength || w < -MaxPadLength {
			return "", c.Errorf("the alignment in '{%s}' is not valid.", spec)
		}
		if pad := abs(w) - len([]rune(s)); pad > 0 {
			if w > 0 {
				s = strings.Repeat(" ", pad) + s
			} else {
				s += strings.Repeat(" ", pad)
			}
		}
	}
	return s, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// formatValue applies a standard numeric format to a number; other
// values ignore the format.
func formatValue(c *Call, v any, f string) (string, error) {
	num, isNum := asFloat(v)
	if f == "" || !isNum {
		return String(v), nil
	}
	prec := -1
	if len(f) > 1 {
		p, err := strconv.Atoi(f[1:])
		if err != nil || p > 99 {
			return "", c.Errorf("the format '%s' is not supported.", f)
		}
		prec = p
	}
	i, isInt := asInt(v)
	switch f[0] {
	case 'N', 'n':
		return groupThousands(strconv.FormatFloat(num, 'f', orDefault(prec, 2), 64)), nil
	case 'F', 'f':
		return strconv.FormatFloat(num, 'f', orDefault(prec, 2), 64), nil
	case 'D', 'd':
		if !isInt {
			return "", c.Errorf("the format '%s' needs an integer.", f)
		}
		s := strconv.FormatInt(abs64(i), 10)
		if pad := prec - len(s); pad > 0 {
			s = strings.Repeat("0", pad) + s
		}
		if i < 0 {
			s = "-" + s
		}
		return s, nil
	case 'X', 'x':
		if !isInt {
			return "", c.Errorf("the format '%s' needs an integer.", f)
		}
		s := strconv.FormatUint(uint64(i), 16)
		if f[0] == 'X' {
			s = strings.ToUpper(s)
		}
		if pad := prec - len(s); pad > 0 {
			s = strings.Repeat("0", pad) + s
		}
		return s, nil
	}
	return "", c.Errorf("the format '%s' is not supported.", f)
}

func orDefault(p, d int) int {
	if p < 0 {
		return d
	}
	return p
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// groupThousands puts "," between groups of three integer digits.
func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, d := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return sign + b.String()
}
