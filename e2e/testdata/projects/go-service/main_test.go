package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

func TestItems(t *testing.T) {
	r := router(zap.NewNop(), prometheus.NewRegistry(), &store{items: map[string]Item{}})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/items", strings.NewReader(`{"name":"a"}`)))
	if w.Code != http.StatusCreated {
		t.Fatalf("POST /items: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/items", strings.NewReader(`{}`)))
	if w.Code != http.StatusBadRequest {
		t.Fatalf("POST /items without a name: %d", w.Code)
	}
}
