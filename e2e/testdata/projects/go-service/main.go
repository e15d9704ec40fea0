// Command go-service is a small HTTP service: a JSON API on gin with
// structured logs (zap), Prometheus metrics, configuration from flags,
// environment and an optional file (cobra + viper) and a gRPC health server.
package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Item is what the API stores.
type Item struct {
	ID      string    `json:"id"`
	Name    string    `json:"name" binding:"required,min=1,max=100"`
	Created time.Time `json:"created"`
}

type store struct {
	mu    sync.RWMutex
	items map[string]Item
}

func (s *store) put(it Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[it.ID] = it
}

func (s *store) get(id string) (Item, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, ok := s.items[id]
	return it, ok
}

func (s *store) list() []Item {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Item, 0, len(s.items))
	for _, it := range s.items {
		out = append(out, it)
	}
	return out
}

var requests = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "go_service_http_requests_total",
	Help: "HTTP requests by route and status.",
}, []string{"route", "status"})

func router(log *zap.Logger, reg *prometheus.Registry, st *store) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := http.StatusText(c.Writer.Status())
		requests.WithLabelValues(c.FullPath(), status).Inc()
		log.Info("request", zap.String("method", c.Request.Method), zap.String("path", c.Request.URL.Path),
			zap.Int("status", c.Writer.Status()), zap.Duration("took", time.Since(start)))
	})
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	r.GET("/items", func(c *gin.Context) { c.JSON(http.StatusOK, st.list()) })
	r.GET("/items/:id", func(c *gin.Context) {
		it, ok := st.get(c.Param("id"))
		if !ok {
			c.JSON(http.StatusNotFound, gin.H{"error": "no such item"})
			return
		}
		c.JSON(http.StatusOK, it)
	})
	r.POST("/items", func(c *gin.Context) {
		var it Item
		if err := c.ShouldBindJSON(&it); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		it.ID, it.Created = uuid.NewString(), time.Now().UTC()
		st.put(it)
		c.JSON(http.StatusCreated, it)
	})
	return r
}

func serve(cfg *viper.Viper) error {
	log, err := zap.NewProduction()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	reg := prometheus.NewRegistry()
	reg.MustRegister(requests, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	srv := &http.Server{
		Addr:              cfg.GetString("http-addr"),
		Handler:           router(log, reg, &store{items: map[string]Item{}}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	lis, err := net.Listen("tcp", cfg.GetString("grpc-addr"))
	if err != nil {
		return err
	}
	gs := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 2)
	go func() { errc <- gs.Serve(lis) }()
	go func() {
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("serving", zap.String("http", srv.Addr), zap.String("grpc", lis.Addr().String()))
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gs.GracefulStop()
	if serr := srv.Shutdown(shutdown); err == nil {
		err = serr
	}
	return err
}

func main() {
	cfg := viper.New()
	cmd := &cobra.Command{
		Use:   "go-service",
		Short: "A small JSON API with metrics and a gRPC health check",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f := cfg.GetString("config"); f != "" {
				cfg.SetConfigFile(f)
				if err := cfg.ReadInConfig(); err != nil {
					return err
				}
			}
			return serve(cfg)
		},
	}
	cmd.Flags().String("http-addr", ":8080", "HTTP listen address")
	cmd.Flags().String("grpc-addr", ":9090", "gRPC listen address")
	cmd.Flags().String("config", "", "configuration file (YAML, TOML or JSON)")
	_ = cfg.BindPFlags(cmd.Flags())
	cfg.SetEnvPrefix("GO_SERVICE")
	cfg.AutomaticEnv()
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
