// Verifies a wxlogin access token the way a team's Java service does: with Nimbus JOSE+JWT and
// nothing but wxlogin's JWKS URL. See docs/integrate.md.
//
//   WXLOGIN_URL=https://login.example.com WXLOGIN_AUDIENCE=orders java Verify <token>
//
// prints the token's claims as JSON, or why it was refused (and exits 1).

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.URL;
import java.util.Set;

public final class Verify {
    /** Builds the processor once per service: its JWK source caches the keys and fetches them
     * again when a token names a key id it does not hold (after a key rotation). */
    static DefaultJWTProcessor<SecurityContext> processor(String wxloginUrl, String audience)
            throws Exception {
        JWKSource<SecurityContext> keys =
                JWKSourceBuilder.create(new URL(wxloginUrl + "/.well-known/jwks.json")).build();
        DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        // The token's header never chooses the algorithm.
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.EdDSA, keys));
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
                audience, // null only if wxlogin sets no TOKEN_AUDIENCE
                new JWTClaimsSet.Builder().issuer("wxlogin").build(),
                Set.of("sub", "sid", "exp"));
        claims.setMaxClockSkew(30); // wxlogin's own leeway past exp, in seconds
        processor.setJWTClaimsSetVerifier(claims);
        return processor;
    }

    public static void main(String[] args) throws Exception {
        String url = System.getenv().getOrDefault("WXLOGIN_URL", "http://127.0.0.1:8080");
        String audience = System.getenv("WXLOGIN_AUDIENCE");
        DefaultJWTProcessor<SecurityContext> processor = processor(url, audience);
        try {
            JWTClaimsSet claims = processor.process(args.length > 0 ? args[0] : "", null);
            System.out.println(claims.toString());
        } catch (Exception e) {
            System.err.println("refused: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(1);
        }
    }
}
