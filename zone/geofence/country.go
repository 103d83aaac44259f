package geofence

import "fmt"

// Country is a client's country: an ISO 3166-1 alpha-2 code, or unknown.
// The zero Country is unknown. It is a small value, compared with ==.
type Country struct{ idx uint16 } // 1 + 26*first + second; 0 is unknown

// ParseCountry reads an alpha-2 code in either case. Anything else, and the
// codes that name no country ("XX": unknown to the hop, "T1": Tor, which
// contain a digit or are reserved), is the unknown Country.
func ParseCountry(s string) Country {
	if len(s) != 2 {
		return Country{}
	}
	a, b := upper(s[0]), upper(s[1])
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' || a == 'X' && b == 'X' {
		return Country{}
	}
	return Country{1 + uint16(a-'A')*26 + uint16(b-'A')}
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// Known reports whether c names a country.
func (c Country) Known() bool { return c.idx != 0 }

// String returns the upper-case code, or "" for the unknown Country. It
// does not allocate.
func (c Country) String() string {
	if c.idx == 0 {
		return ""
	}
	return countryCodes[c.idx-1]
}

// countryCodes holds every two-letter code, so String never allocates.
var countryCodes = func() (codes [26 * 26]string) {
	for i := range codes {
		codes[i] = string([]byte{byte('A' + i/26), byte('A' + i%26)})
	}
	return codes
}()

// countrySet is a set of Countries, one bit each.
type countrySet [(26*26 + 63) / 64]uint64

func newCountrySet(codes []string) (countrySet, error) {
	var s countrySet
	for _, code := range codes {
		c := ParseCountry(code)
		if !c.Known() {
			return s, fmt.Errorf("%q is not an ISO 3166-1 alpha-2 country code", code)
		}
		i := c.idx - 1
		s[i/64] |= 1 << (i % 64)
	}
	return s, nil
}

func (s *countrySet) has(c Country) bool {
	if c.idx == 0 {
		return false
	}
	i := c.idx - 1
	return s[i/64]&(1<<(i%64)) != 0
}
