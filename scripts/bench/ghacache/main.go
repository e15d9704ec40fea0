// Command ghacache serves the GitHub Actions cache API (v1) on loopback for
// the bench: nektos/act's artifactcache, the service act gives workflows
// it runs locally, which BuildKit's gha cache backend speaks with version=1.
//
// It writes, once it listens, the base URL to -url-file (what
// ACTIONS_CACHE_URL holds on a runner) and a runtime token to -token-file
// (ACTIONS_RUNTIME_TOKEN): a JWT whose `ac` claim grants read and write on
// -scope. BuildKit reads the claims without checking the signature; act does
// not read the token at all. It stops on SIGTERM or SIGINT.
//
// `ghacache token -scope REF` prints a runtime token for another scope: the
// layer cache's index key holds a digest of the token's write scope, so a
// token of its own keeps one user of the service (a test) from reading
// another's index.
//
// A module of its own, so that act's dependencies stay out of tomlfront's
// go.mod: scripts/bench/tools.sh builds it.
package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nektos/act/pkg/artifactcache"
	"github.com/sirupsen/logrus"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "token" {
		printToken(os.Args[2:])
		return
	}
	dir := flag.String("dir", "", "where the caches are stored")
	addr := flag.String("ip", "127.0.0.1", "the address to listen on (a port the kernel picks)")
	urlFile := flag.String("url-file", "", "where to write the service's URL")
	tokenFile := flag.String("token-file", "", "where to write a runtime token")
	scope := flag.String("scope", "refs/heads/main", "the scope (a git ref) the token grants read and write on")
	flag.Parse()
	if *dir == "" || *urlFile == "" || *tokenFile == "" {
		log.Fatal("-dir, -url-file and -token-file are required")
	}

	logger := logrus.New()
	logger.SetLevel(logrus.DebugLevel) // each request, in the bench's log
	h, err := artifactcache.StartHandler(*dir, "", *addr, 0, logger)
	if err != nil {
		log.Fatal(err)
	}
	token, err := runtimeToken(*scope, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	// The token first: the URL file is what the bench waits for.
	if err := writeFile(*tokenFile, token); err != nil {
		log.Fatal(err)
	}
	if err := writeFile(*urlFile, h.ExternalURL()+"/"); err != nil {
		log.Fatal(err)
	}
	log.Printf("serving the GitHub Actions cache API v1 at %s", h.ExternalURL()+"/")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	if err := h.Close(); err != nil {
		log.Fatal(err)
	}
}

func printToken(args []string) {
	flags := flag.NewFlagSet("token", flag.ExitOnError)
	scope := flags.String("scope", "refs/heads/main", "the scope (a git ref) the token grants read and write on")
	_ = flags.Parse(args)
	token, err := runtimeToken(*scope, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(token)
}

// runtimeToken is an unsigned JWT with the claims BuildKit reads: `ac`, a
// JSON string listing scopes and their permissions (1 read, 2 write), and
// the times it is valid in. It is valid for a day from a minute ago (clock
// skew between the token and the daemons reading it is none here, but a
// token valid from exactly now fails a check made in the same second).
func runtimeToken(scope string, now time.Time) (string, error) {
	ac, err := json.Marshal([]map[string]any{{"Scope": scope, "Permission": 3}})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"ac":  string(ac),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(24 * time.Hour).Unix(),
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(claims) + ".", nil
}

// writeFile writes a file whole or not at all: the bench polls for it.
func writeFile(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
