// @graphql-codegen/client-preset on the same schema and documents, for the comparison test.
// The schema is what `fraiseql schema examples.blog.schema:printable_schema` prints.
export default {
  schema: "schema.graphql",
  documents: ["../documents/blog/*.graphql"],
  ignoreNoDocuments: true,
  generates: {
    "client-preset/": {
      preset: "client",
      config: {
        useTypeImports: true,
        scalars: {
          UUID: "string",
          DateTime: "string",
          EmailAddress: "string",
          LTree: "string",
        },
      },
    },
  },
};
