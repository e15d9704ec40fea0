# e2e/testdata/projects/node-app as Docker's documentation recommends
# writing it: npm's cache in a cache mount, the lock files bind-mounted for
# `npm ci`.
FROM node:18 AS build
WORKDIR /app
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt NODE_ENV=test
RUN --mount=type=bind,source=package.json,target=package.json \
    --mount=type=bind,source=package-lock.json,target=package-lock.json \
    --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
RUN npm test && npm run build

FROM node:18 AS runtime
WORKDIR /app
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt NODE_ENV=production
RUN --mount=type=bind,source=package.json,target=package.json \
    --mount=type=bind,source=package-lock.json,target=package-lock.json \
    --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund
COPY package.json package-lock.json ./
COPY src src/
COPY --from=build /app/dist dist/
USER node
EXPOSE 8080/tcp
CMD ["node", "src/server.js"]
