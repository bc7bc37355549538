// s3rver ships no types; we use only its constructor and drive the rest through S3rverInternals.
declare module "s3rver" {
  const S3rver: new (options: Record<string, unknown>) => unknown;
  export default S3rver;
}
