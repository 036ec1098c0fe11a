package expr

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Azure's date functions:
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-date
func dateFunctions(m map[string]Function) {
	m["utcnow"] = fn(0, 1, func(c *Call) (any, error) {
		now := time.Now
		if c.Context().Now != nil {
			now = c.Context().Now
		}
		f := "yyyyMMddTHHmmssZ"
		if c.Len() > 0 {
			var err error
			if f, err = c.String(0); err != nil {
				return nil, err
			}
		}
		return formatTime(c, now().UTC(), f)
	})
	m["datetimeadd"] = fn(2, 3, func(c *Call) (any, error) {
		base, err := timeArg(c, 0)
		if err != nil {
			return nil, err
		}
		d, err := c.String(1)
		if err != nil {
			return nil, err
		}
		t, ok := addDuration(base, d)
		if !ok {
			return nil, c.Errorf("the duration '%s' is not a valid ISO 8601 duration.", truncate(d))
		}
		if c.Len() > 2 {
			f, err := c.String(2)
			if err != nil {
				return nil, err
			}
			return formatTime(c, t, f)
		}
		return t.Format("2006-01-02T15:04:05.9999999Z07:00"), nil
	})
	m["datetimefromepoch"] = fn(1, 1, func(c *Call) (any, error) {
		n, err := c.Int(0)
		if err != nil {
			return nil, err
		}
		if n < -62135596800 || n > 253402300799 {
			return nil, c.Errorf("the epoch time %d is out of range.", n)
		}
		return time.Unix(n, 0).UTC().Format("2006-01-02T15:04:05Z"), nil
	})
	m["datetimetoepoch"] = fn(1, 1, func(c *Call) (any, error) {
		t, err := timeArg(c, 0)
		if err != nil {
			return nil, err
		}
		return t.Unix(), nil
	})
}

// timeLayouts are the forms of date and time the functions read.
var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05Z",
	"2006-01-02 15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02", "20060102T150405Z",
}

func timeArg(c *Call, i int) (time.Time, error) {
	s, err := c.String(i)
	if err != nil {
		return time.Time{}, err
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, c.Errorf("the %s argument '%s' is not a valid date and time.", ordinal(i), truncate(s))
}

// addDuration adds an ISO 8601 duration (P1Y2M3W4DT5H6M7.5S, optionally
// negative) to t; years and months are calendar units.
func addDuration(t time.Time, d string) (time.Time, bool) {
	neg := strings.HasPrefix(d, "-")
	d = strings.TrimPrefix(d, "-")
	if !strings.HasPrefix(d, "P") || len(d) < 3 {
		return t, false
	}
	sign := 1.0
	if neg {
		sign = -1
	}
	inTime := false
	num := ""
	var years, months, days int
	var dur time.Duration
	for _, r := range d[1:] {
		switch {
		case r == 'T' && !inTime && num == "":
			inTime = true
			continue
		case r >= '0' && r <= '9' || r == '.' || r == ',':
			num += string(r)
			continue
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(num, ",", "."), 64)
		if err != nil || f > 1e7 {
			return t, false
		}
		f *= sign
		num = ""
		switch {
		case !inTime && r == 'Y' && f == math.Trunc(f):
			years += int(f)
		case !inTime && r == 'M' && f == math.Trunc(f):
			months += int(f)
		case !inTime && r == 'W':
			dur += time.Duration(f * 7 * 24 * float64(time.Hour))
		case !inTime && r == 'D':
			if f == math.Trunc(f) {
				days += int(f)
			} else {
				dur += time.Duration(f * 24 * float64(time.Hour))
			}
		case inTime && r == 'H':
			dur += time.Duration(f * float64(time.Hour))
		case inTime && r == 'M':
			dur += time.Duration(f * float64(time.Minute))
		case inTime && r == 'S':
			dur += time.Duration(f * float64(time.Second))
		default:
			return t, false
		}
	}
	if num != "" {
		return t, false
	}
	return t.AddDate(years, months, days).Add(dur), true
}

// formatTime applies a .NET date format: a standard one-letter format or
// a custom pattern (yyyy, MM, dd, HH, hh, mm, ss, f..., tt, K, quoted
// literals; other characters print as they are).
func formatTime(c *Call, t time.Time, f string) (any, error) {
	switch f {
	case "d":
		f = "M/d/yyyy"
	case "D":
		f = "dddd, dd MMMM yyyy"
	case "t":
		f = "HH:mm"
	case "T":
		f = "HH:mm:ss"
	case "g":
		f = "M/d/yyyy HH:mm"
	case "G":
		f = "M/d/yyyy HH:mm:ss"
	case "o", "O":
		f = "yyyy-MM-ddTHH:mm:ss.fffffffK"
	case "r", "R":
		f = "ddd, dd MMM yyyy HH:mm:ss 'GMT'"
	case "s":
		f = "yyyy-MM-ddTHH:mm:ss"
	case "u":
		f = "yyyy-MM-dd HH:mm:ssZ"
	case "U":
		f = "dddd, dd MMMM yyyy HH:mm:ss"
	case "M", "m":
		f = "MMMM dd"
	case "Y", "y":
		f = "yyyy MMMM"
	}
	if len(f) > 256 {
		return nil, c.Errorf("the format '%s' is too long.", truncate(f))
	}
	var b strings.Builder
	for i := 0; i < len(f); {
		ch := f[i]
		n := 1
		for i+n < len(f) && f[i+n] == ch {
			n++
		}
		switch ch {
		case 'y':
			y := t.Year()
			if n <= 2 {
				y %= 100
			}
			b.WriteString(pad(y, max(n, 1)))
		case 'M':
			switch {
			case n >= 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				b.WriteString(pad(int(t.Month()), n))
			}
		case 'd':
			switch {
			case n >= 4:
				b.WriteString(t.Weekday().String())
			case n == 3:
				b.WriteString(t.Weekday().String()[:3])
			default:
				b.WriteString(pad(t.Day(), n))
			}
		case 'H':
			b.WriteString(pad(t.Hour(), min(n, 2)))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(h, min(n, 2)))
		case 'm':
			b.WriteString(pad(t.Minute(), min(n, 2)))
		case 's':
			b.WriteString(pad(t.Second(), min(n, 2)))
		case 'f', 'F':
			digits := pad(t.Nanosecond()/100, 7)[:min(n, 7)]
			if ch == 'F' {
				digits = strings.TrimRight(digits, "0")
			}
			b.WriteString(digits)
		case 't':
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			b.WriteString(ampm[:min(n, 2)])
		case 'K':
			b.WriteString("Z")
		case '\'', '"':
			end := strings.IndexByte(f[i+1:], ch)
			if end < 0 {
				return nil, c.Errorf("the format '%s' has an unterminated quote.", truncate(f))
			}
			b.WriteString(f[i+1 : i+1+end])
			n = end + 2
		case '\\':
			if i+1 < len(f) {
				b.WriteByte(f[i+1])
			}
			n = 2
		default:
			b.WriteString(f[i : i+n])
		}
		i += n
	}
	return b.String(), nil
}

func pad(v, width int) string {
	s := strconv.Itoa(v)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
