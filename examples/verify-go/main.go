// Verifies a wxlogin access token the way a team's Go service does: with golang-jwt and a JWKS
// key function, and nothing but wxlogin's JWKS URL. See docs/integrate.md.
//
//	WXLOGIN_URL=https://login.example.com WXLOGIN_AUDIENCE=orders go run . <token>
//
// prints the token's claims as JSON, or why it was refused (and exits 1).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// verifyToken returns the claims of token if wxlogin signed it for this service and it has not
// expired. jwks is created once per process: it keeps the keys, refreshes them in the background
// and fetches them again when a token names a key id it does not hold (after a key rotation).
func verifyToken(jwks keyfunc.Keyfunc, audience, token string) (jwt.MapClaims, error) {
	options := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"EdDSA"}), // the token's header never chooses the algorithm
		jwt.WithIssuer("wxlogin"),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30 * time.Second), // wxlogin's own leeway past exp
	}
	if audience != "" { // leave WXLOGIN_AUDIENCE unset only if wxlogin sets no TOKEN_AUDIENCE
		options = append(options, jwt.WithAudience(audience))
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(token, claims, jwks.Keyfunc, options...); err != nil {
		return nil, err
	}
	return claims, nil
}

func main() {
	url := os.Getenv("WXLOGIN_URL")
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	jwks, err := keyfunc.NewDefaultCtx(context.Background(), []string{url + "/.well-known/jwks.json"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot fetch wxlogin's keys: %v\n", err)
		os.Exit(2)
	}
	token := ""
	if len(os.Args) > 1 {
		token = os.Args[1]
	}
	claims, err := verifyToken(jwks, os.Getenv("WXLOGIN_AUDIENCE"), token)
	if err != nil {
		fmt.Fprintf(os.Stderr, "refused: %v\n", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(claims)
	fmt.Println(string(out))
}
