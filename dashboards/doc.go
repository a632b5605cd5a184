// Package dashboards is the web console: server-rendered pages of the
// activity log, the user, asset and license histories and each entry in
// full, served by the API's own server on the same origin, signed in with
// the API's session cookie and bound by the same roles. The pages call the
// domain's and the search API's services in-process, as the API's handlers
// do; htmx (vendored under static/vendor) only enhances links and forms
// that work without it, so that every view, filter and entry has a URL.
package dashboards
