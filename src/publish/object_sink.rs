//! A [`Sink`] over the `object_store` crate: any S3-compatible bucket
//! (AWS S3, MinIO, Ceph RGW, Cloudflare R2, Garage, moto ...), and in tests
//! the crate's own in-memory store.
//!
//! The publisher is synchronous; this sink drives the async client on a
//! small current-thread tokio runtime of its own, so it works the same from
//! the CLI and from the board's publishing thread. Uploads run concurrently
//! (tiles are independent; `spec/publishing.md` §3): a PUT on S3 is atomic,
//! so each object appears whole or not at all, and `put_all` returns only
//! when every upload of the batch has succeeded.

use super::sink::{Object, Sink};
use anyhow::{anyhow, bail, Context, Result};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as StorePath;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};
use std::collections::HashSet;
use std::sync::Arc;

/// Uploads in flight at once, by default. S3 serves thousands of requests
/// per second per prefix; the limit here is the publisher's own memory and
/// link, and 16 keeps a 1,000-tile national publish to a few seconds.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How to reach an S3-compatible bucket. Credentials and anything not given
/// here come from the standard `AWS_*` environment variables
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_REGION`, `AWS_ENDPOINT`, ...), never from the command line, where
/// other users could read them.
#[derive(Clone, Debug, Default)]
pub struct S3Options {
    /// The endpoint URL of a non-AWS store (e.g. `http://127.0.0.1:9000`);
    /// requests then use path-style addressing (`<endpoint>/<bucket>/<key>`).
    pub endpoint: Option<String>,
    /// The region (default: `AWS_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// Allow plain HTTP to the endpoint (a loopback test server).
    pub allow_http: bool,
    /// Uploads in flight at once.
    pub concurrency: usize,
}

/// A sink writing under `prefix` of an object store.
pub struct ObjectStoreSink {
    store: Arc<dyn ObjectStore>,
    /// Empty, or a valid object path without leading or trailing slash.
    prefix: String,
    description: String,
    concurrency: usize,
    /// Always `Some` until dropped.
    rt: Option<tokio::runtime::Runtime>,
}

impl ObjectStoreSink {
    /// A sink over any object store (tests use `object_store::memory::InMemory`).
    pub fn new(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        description: String,
        concurrency: usize,
    ) -> Result<ObjectStoreSink> {
        let prefix = normalize_prefix(prefix)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the object store runtime")?;
        Ok(ObjectStoreSink {
            store,
            prefix,
            description,
            concurrency: concurrency.max(1),
            rt: Some(rt),
        })
    }

    /// A sink writing under `prefix` of an S3-compatible `bucket`.
    pub fn s3(bucket: &str, prefix: &str, opts: &S3Options) -> Result<ObjectStoreSink> {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_allow_http(opts.allow_http);
        if let Some(endpoint) = &opts.endpoint {
            // Path-style: S3-compatible stores rarely have per-bucket DNS names.
            b = b
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        if let Some(region) = &opts.region {
            b = b.with_region(region);
        }
        let store = b
            .build()
            .map_err(|e| anyhow!("configuring the S3 client for bucket {bucket}: {e}"))?;
        let prefix = normalize_prefix(prefix)?;
        let description = if prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{prefix}")
        };
        ObjectStoreSink::new(Arc::new(store), &prefix, description, opts.concurrency)
    }

    /// Runs a future to completion on the sink's own runtime.
    fn block_on<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        match &self.rt {
            Some(rt) => rt.block_on(f),
            None => bail!("{}: the sink is shut down", self.description),
        }
    }

    fn key(&self, path: &str) -> Result<StorePath> {
        let full = if self.prefix.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.prefix)
        };
        StorePath::parse(&full).map_err(|e| anyhow!("bad object path {full}: {e}"))
    }
}

/// Checks a key prefix: no empty, `.` or `..` segments, nothing the object
/// store would have to escape. Leading and trailing slashes are dropped.
fn normalize_prefix(prefix: &str) -> Result<String> {
    let p = prefix.trim_matches('/');
    if p.is_empty() {
        return Ok(String::new());
    }
    let parsed = StorePath::parse(p).map_err(|e| anyhow!("bad key prefix {prefix:?}: {e}"))?;
    if parsed.as_ref() != p {
        bail!("bad key prefix {prefix:?}");
    }
    Ok(p.to_string())
}

/// The object's headers as object store attributes.
fn attributes(o: &Object) -> Attributes {
    let mut a = Attributes::new();
    a.insert(Attribute::ContentType, o.content_type.into());
    a.insert(Attribute::CacheControl, o.cache_control.into());
    a
}

/// The last handle on a sink may be dropped inside the server's async
/// runtime, where dropping another runtime would panic; shutting it down in
/// the background is allowed anywhere (no upload is in flight by then).
impl Drop for ObjectStoreSink {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Sink for ObjectStoreSink {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let key = self.key(path)?;
        self.block_on(async {
            match self.store.get(&key).await {
                Ok(r) => Ok(Some(
                    r.bytes()
                        .await
                        .with_context(|| format!("reading {key}"))?
                        .to_vec(),
                )),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(anyhow!("reading {key}: {e}")),
            }
        })
    }

    fn list(&self) -> Result<HashSet<String>> {
        let prefix = if self.prefix.is_empty() {
            None
        } else {
            Some(StorePath::parse(&self.prefix)?)
        };
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        self.block_on(async {
            let mut out = HashSet::new();
            let mut items = self.store.list(prefix.as_ref());
            while let Some(meta) = items.next().await {
                let meta = meta.map_err(|e| anyhow!("listing {}: {e}", self.description))?;
                if let Some(rel) = meta.location.as_ref().strip_prefix(&strip) {
                    out.insert(rel.to_string());
                }
            }
            Ok(out)
        })
    }

    fn put_all(&self, objects: Vec<Object>) -> Result<()> {
        let uploads = objects
            .into_iter()
            .map(|o| {
                let key = self.key(&o.path)?;
                let opts = PutOptions {
                    attributes: attributes(&o),
                    ..Default::default()
                };
                Ok((key, PutPayload::from(o.bytes), opts))
            })
            .collect::<Result<Vec<_>>>()?;
        self.block_on(async {
            futures_util::stream::iter(uploads)
                .map(|(key, payload, opts)| async move {
                    self.store
                        .put_opts(&key, payload, opts)
                        .await
                        .map_err(|e| anyhow!("writing {key}: {e}"))
                })
                .buffer_unordered(self.concurrency)
                .try_for_each(|_| async { Ok(()) })
                .await
        })
    }
}
