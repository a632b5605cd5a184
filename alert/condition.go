package alert

import (
	"math/big"
	"regexp"
	"sort"
	"strings"

	activity "github.com/fluxera/activity"
)

// Condition narrows an alert rule to events whose field compares with a
// value: "asset.value gt 2000 EUR" watches only assets worth more than
// 2,000 euros. A money field compares only amounts in the condition's
// currency; an event in another currency, or without the field, does not
// match.
type Condition struct {
	// Field is one of ConditionFields.
	Field string `json:"field"`
	// Operator is gt, gte, lt, lte or eq.
	Operator string `json:"operator"`
	// Value is a decimal number such as 2000 or 1299.50.
	Value string `json:"value"`
	// Currency is the ISO 4217 code a money field's amount is in.
	Currency string `json:"currency,omitempty"`
}

// ConditionField is a field of an event a rule's condition may compare.
type ConditionField struct {
	Name string `json:"name"`
	// Money fields compare amounts in one currency.
	Money bool   `json:"money"`
	Label string `json:"label"`
	// read returns the field's value on e and its currency, and false when
	// e does not carry it.
	read func(e activity.Event) (value, currency string, ok bool)
}

// ConditionFields are the fields a rule's condition may compare, by name.
var ConditionFields = map[string]ConditionField{
	"asset.value":   {Name: "asset.value", Money: true, Label: "Asset value", read: assetValue},
	"license.value": {Name: "license.value", Money: true, Label: "License value", read: licenseValue},
}

// ConditionFieldNames returns the names of ConditionFields, sorted.
func ConditionFieldNames() []string {
	out := make([]string, 0, len(ConditionFields))
	for name := range ConditionFields {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Condition operators.
const (
	OpGreater      = "gt"
	OpGreaterEqual = "gte"
	OpLess         = "lt"
	OpLessEqual    = "lte"
	OpEqual        = "eq"
)

// ConditionOperators are the operators in the order the console offers them.
var ConditionOperators = []string{OpGreater, OpGreaterEqual, OpLess, OpLessEqual, OpEqual}

// MaxRuleConditions bounds the conditions of one rule.
const MaxRuleConditions = 10

var (
	decimalPattern  = regexp.MustCompile(`^-?[0-9]{1,15}(\.[0-9]{1,4})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// Validate normalizes the condition (trimmed, operator and field lower
// case, currency upper case) and checks it; field is its name in the
// request, such as conditions[0]. It returns activity.EINVALID naming the
// part at fault: conditions[0].field, .operator, .value or .currency.
func (c *Condition) Validate(field string) error {
	c.Field = strings.ToLower(strings.TrimSpace(c.Field))
	c.Operator = strings.ToLower(strings.TrimSpace(c.Operator))
	c.Value = strings.TrimSpace(c.Value)
	c.Currency = strings.ToUpper(strings.TrimSpace(c.Currency))
	f, ok := ConditionFields[c.Field]
	if !ok {
		return activity.Errorf(activity.EINVALID, field+".field", "%s.field %q is not a field a condition can compare; the fields are %s", field, c.Field, strings.Join(ConditionFieldNames(), ", "))
	}
	switch c.Operator {
	case OpGreater, OpGreaterEqual, OpLess, OpLessEqual, OpEqual:
	default:
		return activity.Errorf(activity.EINVALID, field+".operator", "%s.operator must be gt, gte, lt, lte or eq", field)
	}
	if !decimalPattern.MatchString(c.Value) {
		return activity.Errorf(activity.EINVALID, field+".value", "%s.value must be a decimal number such as 2000 or 1299.50", field)
	}
	switch {
	case f.Money && c.Currency == "":
		return activity.Errorf(activity.EINVALID, field+".currency", "%s.currency is required: %s is an amount of money", field, c.Field)
	case f.Money && !currencyPattern.MatchString(c.Currency):
		return activity.Errorf(activity.EINVALID, field+".currency", "%s.currency must be a three-letter ISO 4217 code such as EUR", field)
	case !f.Money && c.Currency != "":
		return activity.Errorf(activity.EINVALID, field+".currency", "%s.currency is only for amounts of money", field)
	}
	return nil
}

// Holds reports whether e carries the condition's field with a value that
// compares as the condition says, in the condition's currency for money.
func (c Condition) Holds(e activity.Event) bool {
	f, ok := ConditionFields[c.Field]
	if !ok {
		return false
	}
	raw, currency, ok := f.read(e)
	if !ok || (f.Money && !strings.EqualFold(currency, c.Currency)) {
		return false
	}
	got, ok := new(big.Rat).SetString(raw)
	if !ok {
		return false
	}
	want, ok := new(big.Rat).SetString(c.Value)
	if !ok {
		return false
	}
	cmp := got.Cmp(want)
	switch c.Operator {
	case OpGreater:
		return cmp > 0
	case OpGreaterEqual:
		return cmp >= 0
	case OpLess:
		return cmp < 0
	case OpLessEqual:
		return cmp <= 0
	case OpEqual:
		return cmp == 0
	}
	return false
}

// String renders the condition for people and events: "asset.value > 2000 EUR".
func (c Condition) String() string {
	op := map[string]string{OpGreater: ">", OpGreaterEqual: "≥", OpLess: "<", OpLessEqual: "≤", OpEqual: "="}[c.Operator]
	s := c.Field + " " + op + " " + c.Value
	if c.Currency != "" {
		s += " " + c.Currency
	}
	return s
}

// Event details that carry what a thing is worth: every event on an asset
// carries the asset's value and currency at that moment, and every seat
// assigned or taken back the license's, when it has a value.
const (
	DetailAssetValue      = "asset_value"
	DetailAssetCurrency   = "asset_currency"
	DetailLicenseValue    = "license_value"
	DetailLicenseCurrency = "license_currency"
)

// assetValue reads an asset's value from an event on an asset.
func assetValue(e activity.Event) (string, string, bool) {
	return worth(e, "asset", DetailAssetValue, DetailAssetCurrency)
}

// licenseValue reads a license's value from an event on a license.
func licenseValue(e activity.Event) (string, string, bool) {
	return worth(e, "license", DetailLicenseValue, DetailLicenseCurrency)
}

// worth reads the value of an event's resource of type kind: from the
// event's details, or else from the value the event changed it to.
func worth(e activity.Event, kind, valueKey, currencyKey string) (string, string, bool) {
	if e.Resource.Type != kind {
		return "", "", false
	}
	value, _ := e.Details[valueKey].(string)
	currency, _ := e.Details[currencyKey].(string)
	if value != "" {
		return value, currency, true
	}
	for _, ch := range e.Changes {
		switch ch.Field {
		case "value":
			value = ch.After
		case "currency":
			currency = ch.After
		}
	}
	return value, currency, value != ""
}
