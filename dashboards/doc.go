// Package dashboards is the home of the web console: the server-rendered
// pages of the activity log, the user, asset and license histories, and
// the analytics pages, served with the API's sessions and roles and
// reading OpenSearch only through the search API's services. It holds no
// pages yet; the console's routes register here when they arrive.
package dashboards
