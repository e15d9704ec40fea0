// Package ci holds the GitHub Actions workflow that docs/ci.md shows,
// github-actions.yml, for a repository holding examples/go-app. Its tests
// check the workflow with actionlint and keep the copies docs/ci.md shows
// (of the workflow and of the spec it builds) the same as the files;
// e2e/workflow_test.go runs its steps on the bench, a first run and a
// second. No Go code of its own: it imports nothing and nothing imports it.
package ci
