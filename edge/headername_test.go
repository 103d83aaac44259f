package edge

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSameHeaderName(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"Cellgate-Passport", "Cellgate-Passport", true},
		{"cellgate_passport", "Cellgate-Passport", true},
		{"CELLGATE-PASSPORT", "Cellgate-Passport", true},
		{"Procore_Company_Id", "Procore-Company-Id", true},
		{"X_Request_Id", "X-Request-Id", true},
		{"Cellgate-Passpor", "Cellgate-Passport", false},
		{"Cellgate\rPassport", "Cellgate-Passport", false},
		{"Cellgate.Passport", "Cellgate-Passport", true}, // PHP folds '.' into '_'
		{"Cellgate~Passport", "cellgate_passport", true}, // lighttpd folds every symbol
		{"Procore.Company.Id", "Procore-Company-Id", true},
		{"X|Forwarded+For", "X-Forwarded-For", true},
		{"Cellgate@Passport", "Cellgate`Passport", false}, // '@'|0x20 == '`': fold letters only
	} {
		assert.Equal(t, tt.want, SameHeaderName(tt.a, tt.b), tt.a)
		assert.Equal(t, tt.want, SameHeaderName(tt.b, tt.a), tt.b)
	}
	assert.True(t, HasHeaderNamePrefix("cellgate_zone", "Cellgate-"))
	assert.False(t, HasHeaderNamePrefix("Cellgat", "Cellgate-"))
}

func TestHeaderValues(t *testing.T) {
	h := http.Header{"Procore-Company-Id": {"1"}, "Other": {"x"}}
	vs, n := HeaderValues(h, "procore_company_id")
	assert.Equal(t, []string{"1"}, vs)
	assert.Equal(t, 1, n)

	h["Procore_Company_Id"] = []string{"4"}
	vs, n = HeaderValues(h, "Procore-Company-Id")
	assert.ElementsMatch(t, []string{"1", "4"}, vs)
	assert.Equal(t, 2, n)
	assert.Equal(t, []string{"1"}, h["Procore-Company-Id"], "the header's own slice is never appended to")

	DeleteHeader(h, "PROCORE-COMPANY-ID")
	assert.Equal(t, http.Header{"Other": {"x"}}, h)
	vs, n = HeaderValues(h, "Procore-Company-Id")
	assert.Nil(t, vs)
	assert.Zero(t, n)
}
