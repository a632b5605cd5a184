package httpapi

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// RefuseEncodedBodies answers 415 to a request sent with a Content-Encoding
// other than identity, in any of its Content-Encoding lines, before a
// handler reads the body: a compressed body would be inflated without a
// bound (fiber's Ctx.Body inflates gzip, deflate and brotli as it reads).
// Mount it ahead of every route.
func RefuseEncodedBodies(c *fiber.Ctx) error {
	var refused string
	c.Request().Header.VisitAll(func(key, value []byte) {
		if refused != "" || !strings.EqualFold(string(key), fiber.HeaderContentEncoding) {
			return
		}
		for _, coding := range strings.Split(string(value), ",") {
			if coding = strings.TrimSpace(coding); coding != "" && !strings.EqualFold(coding, "identity") {
				refused = coding
				return
			}
		}
	})
	if refused == "" {
		return c.Next()
	}
	return fiber.NewError(fiber.StatusUnsupportedMediaType,
		fmt.Sprintf("bodies are taken only as sent: send this one without Content-Encoding %.32q", refused))
}

// Body returns the request body exactly as it arrived, never decompressed.
// Handlers read bodies through it, never through fiber's Ctx.Body.
func Body(c *fiber.Ctx) []byte {
	return c.Request().Body()
}
