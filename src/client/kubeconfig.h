// Reading a kubeconfig: the server, the trust anchors and the credentials of one context,
// as kubectl and client-go take them.
// Thread safety: a pure function of the files it reads.
#pragma once

#include <string>

#include "base/status.h"

namespace skiff {

struct ClusterAccess {
  std::string server;           // "https://host:port[/prefix]"
  std::string host;             // without IPv6 brackets
  std::string port;             // "443" when the URL names none
  std::string authority;        // host[:port] as written, for the Host header
  std::string path_prefix;      // the URL's path, without a trailing '/'
  std::string tls_server_name;  // tls-server-name, else the host
  std::string ca_pem;           // empty: the system trust store
  bool insecure_skip_verify = false;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;  // bearer token (token or tokenFile)
};

// The cluster and user of `context_name` (the current context when empty) in the
// kubeconfig at `path`: certificate-authority(-data), insecure-skip-tls-verify,
// tls-server-name, client-certificate(-data), client-key(-data), token, tokenFile (files
// relative to the kubeconfig). Errors: kInvalid naming what is missing or malformed
// (exec and auth-provider plugins are refused), kNotFound for an unreadable file.
Result<ClusterAccess> LoadKubeconfig(const std::string& path, const std::string& context_name = {});

}  // namespace skiff
