// The SaaS example's JavaScript client flow (run by tests/examples/saas/test_js_client.py):
// log in over HTTP, then use the token with graphql-request for a query and a mutation.
// Usage: node client.mjs <base URL> <organisation> <email> <password>
// Prints one JSON object with what each step answered.
import { GraphQLClient, gql } from "graphql-request";

const [base, organisation, email, password] = process.argv.slice(2);

const login = await fetch(`${base}/auth/login`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ organisation, email, password }),
});
const session = await login.json();
if (login.status !== 200) {
  console.log(JSON.stringify({ loginStatus: login.status, login: session }));
  process.exit(0);
}

const client = new GraphQLClient(`${base}/graphql`, {
  headers: { Authorization: `Bearer ${session.token}` },
});

const projects = await client.request(gql`
  query Projects {
    me { identifier role }
    projects(orderBy: [{ identifier: ASC }]) { identifier invoices { identifier total } }
  }
`);

const created = await client.request(
  gql`
    mutation CreateInvoice($input: CreateInvoiceInput!) {
      createInvoice(input: $input) { status invoice { identifier total project { identifier } } }
    }
  `,
  {
    input: {
      identifier: "inv-js-001",
      project: "website",
      customer: "From JavaScript",
      lines: [{ description: "Widgets", quantity: "3", unitPrice: "19.99" }],
    },
  },
);

let refused = null;
try {
  await new GraphQLClient(`${base}/graphql`, {
    headers: { Authorization: "Bearer not-a-token" },
  }).request(gql`{ me { identifier } }`);
} catch (error) {
  refused = { status: error.response?.status ?? null };
}

console.log(JSON.stringify({ loginStatus: login.status, projects, created, refused }));
