// Labels: a plain string map, as on Kubernetes objects.
export type Labels = Readonly<Record<string, string>>;
