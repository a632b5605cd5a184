package enrich

import (
	"regexp"
	"strings"

	"github.com/fluxera/activity/ingest"
)

// browsers are tried in order: the first token found names the browser.
// Chromium-based browsers also say Chrome and Safari, and Chrome also says
// Safari, so the more specific come first.
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"}, {"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"}, {"CriOS/", "Chrome"}, {"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Trident/", "Internet Explorer"}, {"MSIE ", "Internet Explorer"},
}

// scripts are programs rather than people's browsers.
var scripts = []struct{ token, name string }{
	{"curl/", "curl"}, {"Wget/", "Wget"}, {"python-requests/", "Python Requests"}, {"python-httpx/", "Python HTTPX"},
	{"Go-http-client/", "Go HTTP client"}, {"okhttp/", "OkHttp"}, {"PostmanRuntime/", "Postman"}, {"axios/", "axios"},
	{"node-fetch/", "node-fetch"}, {"fluxera-cli/", "Fluxera CLI"}, {"Terraform/", "Terraform"},
}

var (
	botPattern     = regexp.MustCompile(`(?i)(bot|crawler|spider|slurp)\b`)
	versionPattern = regexp.MustCompile(`^[0-9]+`)
	macPattern     = regexp.MustCompile(`Mac OS X ([0-9]+)[_.]([0-9]+)`)
	iosPattern     = regexp.MustCompile(`OS ([0-9]+)[_.]([0-9]+)`)
	androidPattern = regexp.MustCompile(`Android ([0-9]+(?:\.[0-9]+)?)`)
	windowsNames   = map[string]string{"10.0": "Windows 10", "6.3": "Windows 8.1", "6.2": "Windows 8", "6.1": "Windows 7"}
	windowsPattern = regexp.MustCompile(`Windows NT ([0-9.]+)`)
)

// ParseUserAgent reads the browser, its major version, the operating
// system and the kind of device from a User-Agent header. What it cannot
// tell stays empty; it never fails.
func ParseUserAgent(ua string) ingest.Client {
	var c ingest.Client
	if ua == "" {
		return c
	}
	for _, s := range scripts {
		if i := strings.Index(ua, s.token); i >= 0 {
			c.Browser, c.BrowserVersion, c.Device = s.name, versionAfter(ua, i+len(s.token)), "script"
			c.OS = operatingSystem(ua)
			return c
		}
	}
	if m := botPattern.FindString(ua); m != "" {
		c.Device = "bot"
		if i := strings.Index(ua, "compatible; "); i >= 0 {
			name := ua[i+len("compatible; "):]
			if j := strings.IndexAny(name, "/;)"); j >= 0 {
				name = name[:j]
			}
			c.Browser = name
		}
		return c
	}
	for _, b := range browsers {
		if i := strings.Index(ua, b.token); i >= 0 {
			c.Browser, c.BrowserVersion = b.name, versionAfter(ua, i+len(b.token))
			if b.token == "Trident/" {
				c.BrowserVersion = "11"
			}
			break
		}
	}
	if c.Browser == "" && strings.Contains(ua, "Safari/") {
		c.Browser = "Safari"
		if i := strings.Index(ua, "Version/"); i >= 0 {
			c.BrowserVersion = versionAfter(ua, i+len("Version/"))
		}
	}
	c.OS = operatingSystem(ua)
	switch {
	case strings.Contains(ua, "iPad") || (strings.Contains(ua, "Android") && !strings.Contains(ua, "Mobile")):
		c.Device = "tablet"
	case strings.Contains(ua, "Mobile") || strings.Contains(ua, "iPhone"):
		c.Device = "mobile"
	case c.Browser != "":
		c.Device = "desktop"
	}
	return c
}

func versionAfter(ua string, i int) string {
	return versionPattern.FindString(ua[i:])
}

func operatingSystem(ua string) string {
	switch {
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		if m := iosPattern.FindStringSubmatch(ua); m != nil {
			return "iOS " + m[1] + "." + m[2]
		}
		return "iOS"
	case strings.Contains(ua, "Android"):
		if m := androidPattern.FindStringSubmatch(ua); m != nil {
			return "Android " + m[1]
		}
		return "Android"
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Mac OS X"):
		if m := macPattern.FindStringSubmatch(ua); m != nil {
			return "macOS " + m[1] + "." + m[2]
		}
		return "macOS"
	case strings.Contains(ua, "Windows"):
		if m := windowsPattern.FindStringSubmatch(ua); m != nil {
			if name, ok := windowsNames[m[1]]; ok {
				return name
			}
		}
		return "Windows"
	case strings.Contains(ua, "Linux") || strings.Contains(ua, "linux"):
		return "Linux"
	case strings.Contains(ua, "darwin"):
		return "macOS"
	}
	return ""
}
